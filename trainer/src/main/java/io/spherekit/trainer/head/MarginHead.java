package io.spherekit.trainer.head;

import io.spherekit.trainer.model.CaffeFillers;
import io.spherekit.trainer.model.LayerWiring;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;

import java.util.Collection;
import java.util.Map;

/**
 * Base of the classification heads that train an embedding: a {@code [D, C]} class-weight matrix {@code W}, per-head
 * logits, then softmax cross-entropy.
 *
 * <p>Input: embeddings {@code x} of shape {@code [B, D]}; labels: one-hot {@code [B, C]} (anything else is rejected
 * with an {@link IllegalArgumentException} naming the layer and the row). The score is the cross-entropy averaged
 * over the batch; the gradients DL4J receives are of the summed loss (its updater divides by {@code B}). The layer's
 * activations are the softmax probabilities of the margin-free logits, {@code [B, C]}.
 *
 * <p>Every head is one of three geometries ({@link Geometry}) with a per-head target-class logit
 * {@code t(cos θ_y)} ({@link #target}); the forward and backward passes are hand-written ND4J in
 * {@link MarginHeadLayer}: three GEMMs as for a plain softmax layer, plus O(B·C + D·C) element-wise work. The
 * margin only touches the B target entries, so its per-row arithmetic runs on the JVM in double precision.
 * An earlier version built the heads as SameDiff graphs; DL4J M2.1 runs those op by op at 0.5–0.8 ms per op
 * (BENCHMARKS.md). Parameters are stored as {@code W} {@code [D, C]} in 'c' order, then the head's extra parameter.
 *
 * <p>Class weights use Caffe xavier init (prototxt {@code fc6}). Heads are dropped on export: only the backbone up
 * to the embedding goes to ONNX.
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public abstract class MarginHead extends BaseOutputLayer {

    public static final String WEIGHT = "W";
    /** Added to squared norms before the square root, so ‖0‖ has a finite gradient. */
    public static final double NORM_EPS = 1e-12;

    /** How the non-target logits {@code f_j} are formed from {@code x} and the class weights {@code w_j}. */
    public enum Geometry {
        /** {@code f_j = x·w_j + b_j} (plain softmax; no target transform). */
        LINEAR,
        /** {@code f_j = ‖x‖ cos θ_j}, class weights normalised (SphereFace / A-Softmax). */
        MAGNITUDE,
        /** {@code f_j = s cos θ_j}, features and class weights normalised (AM-Softmax, ArcFace). */
        SCALED
    }

    /** The target-class transform {@code t(c)} of {@code c = cos θ_y}, and its derivative. */
    @FunctionalInterface
    public interface Target {
        /**
         * @param c   cos θ_y, already clamped to [−1, 1]
         * @param out receives {@code out[0] = t(c)} and {@code out[1] = dt/dc}
         */
        void eval(double c, double[] out);
    }

    protected MarginHead() {
        this.lossFn = new LossMCXENT();
        this.activationFn = new ActivationSoftmax();
        this.hasBias = false;
    }

    protected MarginHead(long nIn, long numClasses) {
        this();
        if (numClasses < 2) {
            throw new IllegalArgumentException("numClasses must be >= 2, got " + numClasses);
        }
        this.nIn = nIn;
        this.nOut = numClasses;
    }

    public long getNumClasses() { return nOut; }

    /** Short name written into model metadata: {@code asoftmax}, {@code amsoftmax}, {@code arcface}, {@code softmax}. */
    public abstract String headName();

    /** Head hyper-parameters for model metadata, e.g. {@code m=4}. */
    public abstract Map<String, String> describe();

    /** This head's geometry. */
    public abstract Geometry geometry();

    /** The scale {@code s} of {@link Geometry#SCALED} heads; 1 otherwise. */
    public double scale() {
        return 1.0;
    }

    /**
     * The target-class logit transform for the current parameters ({@code null} for {@link Geometry#LINEAR}):
     * {@code f_y = ‖x‖ t(cos θ_y)} for {@link Geometry#MAGNITUDE}, {@code f_y = s t(cos θ_y)} for {@link Geometry#SCALED}.
     *
     * @param params the layer's parameter table (e.g. A-Softmax reads λ from it)
     */
    public abstract Target target(Map<String, INDArray> params);

    /** Name of the head's one extra parameter (stored after {@code W}), or {@code null}. */
    protected String extraParam() {
        return null;
    }

    /** Length of {@link #extraParam()}, stored as {@code [1, length]}. */
    protected long extraParamLength() {
        return 0;
    }

    /** Initial values: Caffe xavier for {@code W}; subclasses set their extra parameter. */
    protected void initializeParameters(Map<String, INDArray> params) {
        CaffeFillers.xavier(params.get(WEIGHT), nIn);
    }

    @Override
    public ParamInitializer initializer() {
        return MarginHeadParams.INSTANCE;
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf,
                                                       Collection<TrainingListener> listeners, int layerIndex,
                                                       INDArray paramsView, boolean initializeParams,
                                                       DataType networkDataType) {
        if (nIn <= 0) {
            throw new IllegalStateException("head " + getLayerName() + ": embedding size nIn is not set");
        }
        return LayerWiring.wire(new MarginHeadLayer(conf, networkDataType), this, conf, listeners, layerIndex, paramsView,
                initializeParams);
    }
}
