package io.spherekit.trainer.model;

import io.spherekit.trainer.head.MarginHead;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.IUpdater;

import java.util.Arrays;

/**
 * Builds SphereFace networks (Liu et al., CVPR 2017, Table 2) as a DL4J {@link ComputationGraph}.
 *
 * <p>Layout (names follow wy1iu/sphereface {@code sphereface_model.prototxt}): four stages of 64/128/256/512
 * channels (times {@code widthMultiplier}). Stage {@code i} opens with {@code conv{i}_1} (3×3, stride 2, pad 1,
 * bias, Caffe xavier) + {@code relu{i}_1} (per-channel PReLU), followed by {@code units[i]} residual units. A unit is
 * {@code conv → PReLU → conv → PReLU} (3×3, stride 1, pad 1, Gaussian std 0.01, biases frozen at 0) added to its
 * input ({@code res{i}_{j}}; no activation after the sum, no BatchNorm). Then {@code fc5}: dense to the embedding
 * (Caffe xavier), and the margin head {@code fc6}.
 *
 * <p>Input {@code "input"}: {@code [N, 3, 112, 96]}; embedding vertex {@code "fc5"}: {@code [N, embeddingDim]}.
 */
public final class SphereFaceNet {

    public static final String INPUT = "input";
    public static final String EMBEDDING = "fc5";
    public static final String HEAD = "fc6";

    private static final int[] BASE_CHANNELS = {64, 128, 256, 512};

    private SphereFaceNet() {
    }

    /** Residual units per stage for SphereFace-4/10/20/36/64 (paper Table 2). */
    public static int[] unitsForDepth(int depth) {
        return switch (depth) {
            case 4 -> new int[]{0, 0, 0, 0};
            case 10 -> new int[]{0, 1, 2, 0};
            case 20 -> new int[]{1, 2, 4, 1};
            case 36 -> new int[]{2, 4, 8, 2};
            case 64 -> new int[]{3, 8, 16, 3};
            default -> throw new IllegalArgumentException("depth must be one of 4, 10, 20, 36, 64; got " + depth);
        };
    }

    /** Channels of each stage: {@code round(base · widthMultiplier)}, at least 1. */
    public static int[] channels(double widthMultiplier) {
        if (!(widthMultiplier > 0) || widthMultiplier > 4) {
            throw new IllegalArgumentException("widthMultiplier must be in (0, 4], got " + widthMultiplier);
        }
        return Arrays.stream(BASE_CHANNELS).map(c -> Math.max(1, (int) Math.round(c * widthMultiplier))).toArray();
    }

    /**
     * @param depth           4, 10, 20, 36 or 64
     * @param widthMultiplier channel multiplier (1.0 = the paper's 64/128/256/512)
     * @param embeddingDim    fc5 output size (paper: 512)
     * @param height          input height (paper: 112)
     * @param width           input width (paper: 96)
     * @param head            the margin head (becomes layer {@code fc6})
     * @param updater         weight updater; {@code biasUpdater} for the trainable biases (Caffe lr_mult 2)
     * @param l2              L2 weight decay on weights (Caffe weight_decay; biases get none)
     * @param seed            RNG seed for init
     */
    public static ComputationGraphConfiguration configuration(int depth, double widthMultiplier, int embeddingDim,
                                                              int height, int width, MarginHead head,
                                                              IUpdater updater, IUpdater biasUpdater, double l2,
                                                              long seed) {
        return configuration(depth, widthMultiplier, embeddingDim, height, width, head, updater, biasUpdater, l2,
                seed, false);
    }

    /**
     * As above; with {@code batchNorm}, a BatchNormalization layer ({@code bn{i}_{j}}) follows every conv, before its
     * PReLU, as in later SphereFace work (SphereFace-R / SphereFace2). Off by default, for fidelity to the paper.
     */
    public static ComputationGraphConfiguration configuration(int depth, double widthMultiplier, int embeddingDim,
                                                              int height, int width, MarginHead head,
                                                              IUpdater updater, IUpdater biasUpdater, double l2,
                                                              long seed, boolean batchNorm) {
        int[] units = unitsForDepth(depth);
        int[] ch = channels(widthMultiplier);
        if (embeddingDim < 1) {
            throw new IllegalArgumentException("embeddingDim must be >= 1, got " + embeddingDim);
        }
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.FLOAT)
                .updater(updater)
                .biasUpdater(biasUpdater)
                .l2(l2)
                .trainingWorkspaceMode(WorkspaceMode.ENABLED)
                .inferenceWorkspaceMode(WorkspaceMode.ENABLED)
                .cacheMode(CacheMode.HOST)
                .graphBuilder()
                .addInputs(INPUT)
                .setInputTypes(InputType.convolutional(height, width, 3));
        String prev = INPUT;
        for (int s = 0; s < 4; s++) {
            int stage = s + 1;
            String conv = "conv" + stage + "_1";
            g.addLayer(conv, new SphereConv2D(0, ch[s], new int[]{3, 3}, new int[]{2, 2}, new int[]{1, 1},
                    SphereConv2D.Init.XAVIER), prev);
            conv = maybeBn(g, batchNorm, stage, 1, conv);
            prev = "relu" + stage + "_1";
            g.addLayer(prev, new ChannelPReLU(ch[s]), conv);
            int idx = 2;
            for (int u = 0; u < units[s]; u++) {
                String ca = "conv" + stage + "_" + idx;
                String ra = "relu" + stage + "_" + idx;
                String cb = "conv" + stage + "_" + (idx + 1);
                String rb = "relu" + stage + "_" + (idx + 1);
                String sum = "res" + stage + "_" + (idx + 1);
                g.addLayer(ca, residualConv(ch[s]), prev);
                g.addLayer(ra, new ChannelPReLU(ch[s]), maybeBn(g, batchNorm, stage, idx, ca));
                g.addLayer(cb, residualConv(ch[s]), ra);
                g.addLayer(rb, new ChannelPReLU(ch[s]), maybeBn(g, batchNorm, stage, idx + 1, cb));
                g.addVertex(sum, new ElementWiseVertex(ElementWiseVertex.Op.Add), prev, rb);
                prev = sum;
                idx += 2;
            }
        }
        g.addLayer(EMBEDDING, new DenseLayer.Builder().nOut(embeddingDim).activation(Activation.IDENTITY)
                .weightInit(new CaffeXavierInit()).biasInit(0).build(), prev);
        g.addLayer(HEAD, head, EMBEDDING);
        g.setOutputs(HEAD);
        return g.build();
    }

    private static String maybeBn(ComputationGraphConfiguration.GraphBuilder g, boolean on, int stage, int idx,
                                  String from) {
        if (!on) {
            return from;
        }
        String name = "bn" + stage + "_" + idx;
        g.addLayer(name, new BatchNormalization.Builder().eps(1e-5).decay(0.9).build(), from);
        return name;
    }

    private static SphereConv2D residualConv(int c) {
        return new SphereConv2D(c, c, new int[]{3, 3}, new int[]{1, 1}, new int[]{1, 1}, SphereConv2D.Init.GAUSSIAN)
                .withGaussianStd(0.01).withBias(true, true);
    }
}
