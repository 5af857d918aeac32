package io.spherekit.trainer;

import io.spherekit.core.Preprocessing;
import io.spherekit.trainer.data.FaceDataset;
import io.spherekit.trainer.model.SphereFaceNet;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.List;

/**
 * fc5 embeddings of a DL4J network, with the same preprocessing as the runtime. The trainer uses them for the
 * held-out check during training ({@link HeldOutCheck}), the exporter for its ONNX Runtime comparison; the reported
 * verification numbers always come from ONNX Runtime through the runtime module.
 */
public final class Dl4jEmbedder {
    private Dl4jEmbedder() {
    }

    /** Writes item {@code i} as a normalised CHW tensor at {@code offset} of {@code dst}. */
    @FunctionalInterface
    private interface TensorWriter {
        void write(int i, float[] dst, int offset);
    }

    /** Embeds every image of a dataset (centre window, no flip) with the net's fc5: {@code [data.size()][D]}. */
    public static float[][] embed(ComputationGraph net, FaceDataset data, int batch) {
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
        boolean hasBatchNorm = Arrays.stream(net.getLayers()).anyMatch(l -> l instanceof BatchNormalization);
        return hasBatchNorm ? net.feedForward(x, false).get(vertex)
                : net.output(List.of(vertex), false, new INDArray[]{x}, null)[0];
    }
}
