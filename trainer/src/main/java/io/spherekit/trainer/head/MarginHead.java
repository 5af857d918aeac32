package io.spherekit.trainer.head;

import io.spherekit.trainer.model.CaffeFillers;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffOutputLayer;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;

import java.util.Map;

/**
 * Base of the classification heads that train an embedding: a {@code [D, C]} class-weight matrix {@code W},
 * per-head logits, then softmax cross-entropy.
 *
 * <p>Input: embeddings {@code x} of shape {@code [B, D]}; labels: one-hot {@code [B, C]}. The layer's score is the
 * cross-entropy summed over the batch (DL4J divides by {@code B}); its activations are {@link #activationsVertexName()}.
 * Log-softmax is computed by hand (subtract the row max, subtract log-sum-exp): {@code sd.nn.logSoftmax} breaks
 * gradient creation in DL4J M2.1 (shared/notes/FACTS.md). All ops are whole-batch matrix ops: no loop over
 * samples or classes and no batch size baked in. Class weights use Caffe xavier init (prototxt {@code fc6}).
 *
 * <p>Heads are dropped on export: only the backbone up to the embedding goes to ONNX.
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public abstract class MarginHead extends SameDiffOutputLayer {

    public static final String WEIGHT = "W";
    /** Added to squared norms before the square root, so ‖0‖ has a finite gradient. */
    protected static final double NORM_EPS = 1e-12;

    protected long nIn;
    protected long numClasses;

    protected MarginHead() {
    }

    protected MarginHead(long nIn, long numClasses) {
        if (numClasses < 2) {
            throw new IllegalArgumentException("numClasses must be >= 2, got " + numClasses);
        }
        this.nIn = nIn;
        this.numClasses = numClasses;
    }

    public long getNIn() { return nIn; }
    public long getNumClasses() { return numClasses; }

    /** Short name written into model metadata: {@code asoftmax}, {@code amsoftmax}, {@code arcface}, {@code softmax}. */
    public abstract String headName();

    /** Head hyper-parameters for model metadata, e.g. {@code m=4}. */
    public abstract Map<String, String> describe();

    /**
     * The logits fed to softmax cross-entropy.
     *
     * @param x      embeddings {@code [B, D]}
     * @param labels one-hot {@code [B, C]}
     * @param p      parameter table
     * @return {training logits {@code [B, C]} (margin applied to the target class),
     *         inference logits {@code [B, C]} (no labels, no margin)}
     */
    protected abstract SDVariable[] logits(SameDiff sd, SDVariable x, SDVariable labels, Map<String, SDVariable> p);

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable x, SDVariable labels, Map<String, SDVariable> p) {
        SDVariable[] both = logits(sd, x, labels, p);
        SDVariable z = both[0];
        SDVariable max = z.max(true, 1);
        SDVariable shifted = z.sub(max);
        SDVariable lse = sd.math.log(sd.math.exp(shifted).sum(true, 1));
        SDVariable logProb = shifted.sub(lse);
        sd.nn.softmax("probabilities", both[1], 1);
        SDVariable loss = logProb.mul(labels).sum().neg();
        loss.markAsLoss(); // DL4J M2.1 does not infer it: "No loss variables" otherwise
        return loss;
    }

    @Override
    public String activationsVertexName() {
        return "probabilities";
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.clear();
        params.addWeightParam(WEIGHT, nIn, numClasses);
        defineExtraParameters(params);
    }

    /** Subclasses add parameters beyond {@code W} here. */
    protected void defineExtraParameters(SDLayerParams params) {
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        CaffeFillers.xavier(params.get(WEIGHT), nIn);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        return InputType.feedForward(numClasses);
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        if (nIn <= 0 || override) {
            if (!(inputType instanceof InputType.InputTypeFeedForward ff)) {
                throw new IllegalStateException("head " + getLayerName() + " expects a [B, D] input, got " + inputType);
            }
            nIn = ff.getSize();
        }
    }

    // ---- shared building blocks ----

    /** {@code sqrt(Σ v² + eps)} along {@code dim}, kept as a broadcastable dimension. */
    protected static SDVariable norm(SameDiff sd, SDVariable v, int dim) {
        return sd.math.sqrt(v.mul(v).sum(true, dim).add(NORM_EPS));
    }

    /** cos θ between each row of {@code x} and each column of {@code W}: {@code [B, C]}, clamped to [−1, 1]. */
    protected static SDVariable cosine(SameDiff sd, SDVariable x, SDVariable w, SDVariable xNorm) {
        SDVariable wn = w.div(norm(sd, w, 0));
        return sd.math.clipByValue(x.mmul(wn).div(xNorm), -1.0, 1.0);
    }

    /** Unit step {@code 1[v > 0]} with 1/2 at 0 and zero gradient (sign has zero gradient in SameDiff). */
    protected static SDVariable step(SameDiff sd, SDVariable v) {
        return sd.math.sign(v).add(1.0).mul(0.5);
    }
}
