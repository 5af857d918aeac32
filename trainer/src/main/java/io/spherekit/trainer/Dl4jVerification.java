package io.spherekit.trainer;

import io.spherekit.core.Preprocessing;
import io.spherekit.core.Similarity;
import io.spherekit.core.eval.PairList;
import io.spherekit.core.eval.VerificationEvaluation;
import io.spherekit.trainer.model.SphereFaceNet;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Verification accuracy of a DL4J network on a pair list, with the same preprocessing and scoring (cosine of fc5
 * embeddings) as the runtime. The trainer uses it for the held-out check during training; the reported numbers
 * always come from ONNX Runtime through the runtime module.
 */
public final class Dl4jVerification {
    private Dl4jVerification() {
    }

    /** Writes item {@code i} as a normalised CHW tensor at {@code offset} of {@code dst}. */
    @FunctionalInterface
    private interface TensorWriter {
        void write(int i, float[] dst, int offset);
    }

    /**
     * Embeds pre-cropped images (uint8 HWC from {@link Preprocessing#cropResize}) with the net's fc5.
     *
     * @return {@code [images.size()][D]}
     */
    public static float[][] embed(ComputationGraph net, Preprocessing pre, List<byte[]> images, int batch) {
        return embed(net, pre, images.size(), batch, (i, dst, off) -> pre.normalizeInto(images.get(i), false, dst, off));
    }

    /** Embeds every image of a dataset (centre window, no flip) with the net's fc5: {@code [data.size()][D]}. */
    public static float[][] embed(ComputationGraph net, io.spherekit.trainer.data.FaceDataset data, int batch) {
        return embed(net, data.preprocessing(), data.size(), batch, (i, dst, off) -> data.tensorInto(i, 0, 0, false, dst, off));
    }

    private static float[][] embed(ComputationGraph net, Preprocessing pre, int count, int batch, TensorWriter writer) {
        int sz = pre.tensorSize();
        float[][] out = new float[count][];
        for (int s = 0; s < count; s += batch) {
            int n = Math.min(batch, count - s);
            float[] buf = new float[n * sz];
            for (int j = 0; j < n; j++) {
                writer.write(s + j, buf, j * sz);
            }
            INDArray x = Nd4j.create(buf, new long[]{n, 3, pre.height(), pre.width()}, 'c');
            INDArray e = activation(net, SphereFaceNet.EMBEDDING, x);
            for (int j = 0; j < n; j++) {
                out[s + j] = e.getRow(j).toFloatVector();
            }
        }
        return out;
    }

    /**
     * The inference-mode activation of one vertex, detached: {@code [n, D]} for fc5.
     *
     * <p>{@code ComputationGraph.output(List.of(vertex), ...)} runs only the vertices the requested one needs and
     * detaches only its activation. {@code feedForward(x, false)}, which copies every layer's activation out of the
     * workspaces, is used only for graphs with a {@code BatchNormalization} layer: DL4J M2.1's BatchNormalization
     * fails in the {@code output(List, ...)} path ("Workspace WS_LAYER_ACT_1 for array type INPUT is not open").
     */
    public static INDArray activation(ComputationGraph net, String vertex, INDArray x) {
        boolean hasBatchNorm = java.util.Arrays.stream(net.getLayers())
                .anyMatch(l -> l instanceof org.deeplearning4j.nn.layers.normalization.BatchNormalization);
        return hasBatchNorm ? net.feedForward(x, false).get(vertex)
                : net.output(List.of(vertex), false, new INDArray[]{x}, null)[0];
    }

    /** Scores every pair by cosine and runs the LFW 10-fold protocol. */
    public static VerificationEvaluation.Result evaluate(ComputationGraph net, Preprocessing pre, PairList pairs)
            throws java.io.IOException {
        List<java.nio.file.Path> files = pairs.distinctImages();
        List<byte[]> px = new java.util.ArrayList<>();
        for (var f : files) {
            px.add(pre.cropResize(io.spherekit.core.Images.read(f)));
        }
        float[][] emb = embed(net, pre, px, 64);
        Map<java.nio.file.Path, float[]> byFile = new HashMap<>();
        for (int i = 0; i < files.size(); i++) {
            byFile.put(files.get(i), emb[i]);
        }
        double[] scores = new double[pairs.size()];
        for (int i = 0; i < pairs.size(); i++) {
            var p = pairs.pairs().get(i);
            scores[i] = Similarity.cosine(byFile.get(p.first()), byFile.get(p.second()));
        }
        return VerificationEvaluation.evaluate(scores, pairs.genuine(), pairs.foldIndices());
    }
}
