package io.spherekit.runtime;

import ai.onnx.proto.OnnxMl;
import io.spherekit.core.Preprocessing;
import java.awt.Color;
import java.awt.image.BufferedImage;
import io.spherekit.onnx.OnnxGraphBuilder;
import io.spherekit.onnx.OnnxModels;
import io.spherekit.onnx.OnnxOp;
import io.spherekit.onnx.OnnxValue;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Builds tiny ONNX models for tests with the project's own ONNX writer ({@link OnnxGraphBuilder},
 * {@link OnnxModels}; module {@code exporter/onnx}, test scope only): IR 8, opset 17, float32 raw initializers.
 *
 * <p>The standard model is {@code input [N,3,H,W] → Conv 1×1 (2 out) → Flatten → Gemm → embedding [N,D]} with
 * weights chosen so that for a constant image whose normalised channel values are (r, g, b):
 * <pre>
 *   c0 = r + g + b,   c1 = r − b + 0.5
 *   embedding[j] = (j + 1)·c0 + (−1)^j·c1 + 0.1·j
 * </pre>
 * (the Gemm weight of every pixel of channel block c is w_cj / (H·W), so the sum over pixels gives w_cj · c).
 */
final class TestModels {

    private static final OnnxMl.TensorProto.DataType FLOAT = OnnxMl.TensorProto.DataType.FLOAT;

    private TestModels() {
    }

    /**
     * A textured stand-in for a solid colour (blank images are refused as "no face"): a one-pixel checkerboard
     * of {@code c + 24} and {@code c - 24} in every channel, clamped to 0..255.
     */
    static BufferedImage textured(int w, int h, Color c) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int s = ((x + y) & 1) == 0 ? 24 : -24;
                img.setRGB(x, y, (clamp(c.getRed() + s) << 16) | (clamp(c.getGreen() + s) << 8) | clamp(c.getBlue() + s));
            }
        }
        return img;
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    /**
     * Expected embedding of the standard model for any image: the model averages each normalised channel over the
     * input (1×1 conv, then a Gemm with equal weights per pixel), so it is {@link #expected} of the channel means
     * of the model-input pixels ({@code pre.cropResize}, normalised as {@code (p − mean)·scale}).
     */
    static double[] expectedOf(Preprocessing pre, BufferedImage img, int d) {
        byte[] px = pre.cropResize(img);
        double[] m = new double[3];
        for (int i = 0; i < px.length; i++) {
            m[i % 3] += ((px[i] & 0xFF) - pre.mean()) * pre.scale();
        }
        int n = px.length / 3;
        return expected(m[0] / n, m[1] / n, m[2] / n, d);
    }

    /** Expected embedding of a constant image with normalised channel values r, g, b. */
    static double[] expected(double r, double g, double b, int d) {
        double c0 = r + g + b;
        double c1 = r - b + 0.5;
        double[] e = new double[d];
        for (int j = 0; j < d; j++) {
            e[j] = (j + 1) * c0 + ((j % 2 == 0) ? 1 : -1) * c1 + 0.1 * j;
        }
        return e;
    }

    /**
     * Writes the standard model.
     *
     * @param inputDims 4 dims of the input, each a String (symbolic, by that name) or a Number (fixed)
     * @param h         height used for the weights
     * @param w         width used for the weights
     * @param d         embedding size
     * @param metadata  metadata_props
     */
    static Path standard(Path file, Object[] inputDims, int h, int w, int d, Map<String, String> metadata)
            throws IOException {
        int hw = h * w;
        float[] convW = {1, 1, 1, 1, 0, -1}; // [2,3,1,1]
        float[] convB = {0, 0.5f};
        float[] gemmB = new float[2 * hw * d]; // [2*hw, d], row-major
        for (int c = 0; c < 2; c++) {
            for (int p = 0; p < hw; p++) {
                for (int j = 0; j < d; j++) {
                    float wcj = c == 0 ? (j + 1) : ((j % 2 == 0) ? 1 : -1);
                    gemmB[(c * hw + p) * d + j] = wcj / hw;
                }
            }
        }
        float[] gemmC = new float[d];
        for (int j = 0; j < d; j++) {
            gemmC[j] = 0.1f * j;
        }
        OnnxGraphBuilder g = new OnnxGraphBuilder("tiny");
        OnnxValue input = g.input("input", FLOAT, dims(inputDims));
        OnnxValue cw = g.floatInitializer("conv_w", convW, 2, 3, 1, 1);
        OnnxValue cb = g.floatInitializer("conv_b", convB, 2);
        OnnxValue gb = g.floatInitializer("gemm_b", gemmB, 2L * hw, d);
        OnnxValue gc = g.floatInitializer("gemm_c", gemmC, d);
        OnnxValue conv = g.node(OnnxOp.CONV, "conv_out", List.of(input, cw, cb), Map.of("kernel_shape", new long[] {1, 1}));
        OnnxValue flat = g.node(OnnxOp.FLATTEN, "flat", List.of(conv), Map.of("axis", 1L));
        OnnxValue emb = g.node(OnnxOp.GEMM, "gemm", List.of(flat, gb, gc), Map.of(), List.of("embedding")).get(0);
        g.output(emb, FLOAT, OnnxGraphBuilder.BATCH, d);
        return write(file, symbolic(g.build(), inputDims), metadata);
    }

    /**
     * A position-sensitive model (unlike {@link #standard}, which averages over pixels and so cannot tell an image
     * from its mirror): {@code input [N,3,h,w] → Flatten → Gemm(B, C) → embedding [N,d]}, i.e.
     * {@code embedding[j] = C[j] + Σ_k x[k]·B[k·d + j]} over the CHW-flattened input {@code x}, with B and C drawn
     * uniformly from [−1, 1) by {@code new Random(seed)} (B first, row-major {@code [3·h·w, d]}, then C).
     *
     * @param batch the input's batch dim: a String (symbolic) or a Number (fixed)
     */
    static Linear linear(Path file, Object batch, int h, int w, int d, long seed, Map<String, String> metadata)
            throws IOException {
        int k = 3 * h * w;
        java.util.Random rnd = new java.util.Random(seed);
        float[] gemmB = new float[k * d];
        for (int i = 0; i < gemmB.length; i++) {
            gemmB[i] = rnd.nextFloat() * 2 - 1;
        }
        float[] gemmC = new float[d];
        for (int j = 0; j < d; j++) {
            gemmC[j] = rnd.nextFloat() * 2 - 1;
        }
        Object[] inputDims = {batch, 3, h, w};
        OnnxGraphBuilder g = new OnnxGraphBuilder("linear");
        OnnxValue input = g.input("input", FLOAT, dims(inputDims));
        OnnxValue gb = g.floatInitializer("gemm_b", gemmB, k, d);
        OnnxValue gc = g.floatInitializer("gemm_c", gemmC, d);
        OnnxValue flat = g.node(OnnxOp.FLATTEN, "flat", List.of(input), Map.of("axis", 1L));
        OnnxValue emb = g.node(OnnxOp.GEMM, "gemm", List.of(flat, gb, gc), Map.of(), List.of("embedding")).get(0);
        g.output(emb, FLOAT, OnnxGraphBuilder.BATCH, d);
        return new Linear(write(file, symbolic(g.build(), inputDims), metadata), gemmB, gemmC, d);
    }

    /** A {@link #linear} model file and its weights, to compute its embeddings by hand. */
    record Linear(Path path, float[] b, float[] c, int d) {
        /** The embedding of one CHW-flattened input, in double. */
        double[] embed(float[] chw) {
            double[] e = new double[d];
            for (int j = 0; j < d; j++) {
                double s = c[j];
                for (int i = 0; i < chw.length; i++) {
                    s += (double) chw[i] * b[i * d + j];
                }
                e[j] = s;
            }
            return e;
        }
    }

    /** A model whose input is 2-D {@code [N, 3·h·w]} (wrong rank): Gemm to {@code [N, d]}. */
    static Path flatInput(Path file, int h, int w, int d) throws IOException {
        int k = 3 * h * w;
        OnnxGraphBuilder g = new OnnxGraphBuilder("flat");
        OnnxValue x = g.input("x", FLOAT, OnnxGraphBuilder.BATCH, k);
        OnnxValue b = g.floatInitializer("b", new float[k * d], k, d);
        OnnxValue y = g.node(OnnxOp.GEMM, "gemm", List.of(x, b), Map.of(), List.of("y")).get(0);
        g.output(y, FLOAT, OnnxGraphBuilder.BATCH, d);
        return write(file, g.build(), Map.of());
    }

    /** A model whose output is 4-D (Conv only, no Flatten/Gemm). */
    static Path convOnly(Path file, int h, int w) throws IOException {
        OnnxGraphBuilder g = new OnnxGraphBuilder("convonly");
        OnnxValue input = g.input("input", FLOAT, OnnxGraphBuilder.BATCH, 3, h, w);
        OnnxValue cw = g.floatInitializer("conv_w", new float[6], 2, 3, 1, 1);
        OnnxValue features = g.node(OnnxOp.CONV, "conv", List.of(input, cw), Map.of("kernel_shape", new long[] {1, 1}),
                List.of("features")).get(0);
        g.output(features, FLOAT, OnnxGraphBuilder.BATCH, 2, h, w);
        return write(file, g.build(), Map.of());
    }

    /** Fixed dims as given; every symbolic dim as {@link OnnxGraphBuilder#BATCH} (renamed by {@link #symbolic}). */
    private static long[] dims(Object[] inputDims) {
        long[] out = new long[inputDims.length];
        for (int i = 0; i < inputDims.length; i++) {
            out[i] = inputDims[i] instanceof String ? OnnxGraphBuilder.BATCH : ((Number) inputDims[i]).longValue();
        }
        return out;
    }

    /**
     * The writer names every symbolic dim {@code "batch"}; a model with several symbolic dims (e.g. {@code h},
     * {@code w}) needs them to differ, so the first input's symbolic dims get the names given.
     */
    private static OnnxMl.GraphProto symbolic(OnnxMl.GraphProto graph, Object[] inputDims) {
        OnnxMl.GraphProto.Builder gb = graph.toBuilder();
        OnnxMl.TensorShapeProto.Builder shape = gb.getInputBuilder(0).getTypeBuilder().getTensorTypeBuilder()
                .getShapeBuilder();
        for (int i = 0; i < inputDims.length; i++) {
            if (inputDims[i] instanceof String name) {
                shape.getDimBuilder(i).setDimParam(name);
            }
        }
        return gb.build();
    }

    private static Path write(Path file, OnnxMl.GraphProto graph, Map<String, String> metadata) throws IOException {
        OnnxMl.ModelProto m = OnnxModels.stamp(graph, OnnxModels.DEFAULT_OPSET, "tests", null, metadata);
        Files.write(file, m.toByteArray());
        return file;
    }
}
