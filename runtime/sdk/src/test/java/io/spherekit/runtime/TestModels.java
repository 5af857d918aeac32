package io.spherekit.runtime;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Builds tiny ONNX models for tests with the protobuf classes of tribuo-util-onnx (test scope only).
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

    static final int FLOAT = OnnxMl.TensorProto.DataType.FLOAT.getNumber();

    private TestModels() {
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
     * @param inputDims 4 dims of the input, each a String (symbolic) or a Number (fixed)
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
        OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("tiny")
                .addInput(valueInfo("input", inputDims))
                .addOutput(valueInfo("embedding", new Object[] {"batch", d}))
                .addInitializer(tensor("conv_w", convW, 2, 3, 1, 1))
                .addInitializer(tensor("conv_b", convB, 2))
                .addInitializer(tensor("gemm_b", gemmB, 2L * hw, d))
                .addInitializer(tensor("gemm_c", gemmC, d))
                .addNode(node("Conv", new String[] {"input", "conv_w", "conv_b"}, "conv_out")
                        .addAttribute(ints("kernel_shape", 1, 1)))
                .addNode(node("Flatten", new String[] {"conv_out"}, "flat").addAttribute(intAttr("axis", 1)))
                .addNode(node("Gemm", new String[] {"flat", "gemm_b", "gemm_c"}, "embedding"));
        return write(file, g, metadata);
    }

    /** A model whose input is 2-D {@code [N, 3·h·w]} (wrong rank): Gemm to {@code [N, d]}. */
    static Path flatInput(Path file, int h, int w, int d) throws IOException {
        int k = 3 * h * w;
        OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("flat")
                .addInput(valueInfo("x", new Object[] {"batch", k}))
                .addOutput(valueInfo("y", new Object[] {"batch", d}))
                .addInitializer(tensor("b", new float[k * d], k, d))
                .addNode(node("Gemm", new String[] {"x", "b"}, "y"));
        return write(file, g, Map.of());
    }

    /** A model whose output is 4-D (Conv only, no Flatten/Gemm). */
    static Path convOnly(Path file, int h, int w) throws IOException {
        OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("convonly")
                .addInput(valueInfo("input", new Object[] {"batch", 3, h, w}))
                .addOutput(valueInfo("features", new Object[] {"batch", 2, h, w}))
                .addInitializer(tensor("conv_w", new float[6], 2, 3, 1, 1))
                .addNode(node("Conv", new String[] {"input", "conv_w"}, "features")
                        .addAttribute(ints("kernel_shape", 1, 1)));
        return write(file, g, Map.of());
    }

    private static Path write(Path file, OnnxMl.GraphProto.Builder g, Map<String, String> metadata)
            throws IOException {
        OnnxMl.ModelProto.Builder m = OnnxMl.ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("spherekit-tests")
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .setGraph(g);
        metadata.forEach((k, v) -> m.addMetadataProps(
                OnnxMl.StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        Files.write(file, m.build().toByteArray());
        return file;
    }

    private static OnnxMl.ValueInfoProto valueInfo(String name, Object[] dims) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        for (Object d : dims) {
            OnnxMl.TensorShapeProto.Dimension.Builder db = OnnxMl.TensorShapeProto.Dimension.newBuilder();
            if (d instanceof String s) {
                db.setDimParam(s);
            } else {
                db.setDimValue(((Number) d).longValue());
            }
            shape.addDim(db);
        }
        return OnnxMl.ValueInfoProto.newBuilder().setName(name)
                .setType(OnnxMl.TypeProto.newBuilder().setTensorType(
                        OnnxMl.TypeProto.Tensor.newBuilder().setElemType(FLOAT).setShape(shape)))
                .build();
    }

    private static OnnxMl.TensorProto tensor(String name, float[] values, long... dims) {
        ByteBuffer bb = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            bb.putFloat(v);
        }
        bb.flip();
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(name).setDataType(FLOAT)
                .setRawData(ByteString.copyFrom(bb));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    private static OnnxMl.NodeProto.Builder node(String op, String[] inputs, String output) {
        OnnxMl.NodeProto.Builder n = OnnxMl.NodeProto.newBuilder().setOpType(op).setName(op + "_" + output)
                .addOutput(output);
        for (String i : inputs) {
            n.addInput(i);
        }
        return n;
    }

    private static OnnxMl.AttributeProto ints(String name, long... values) {
        OnnxMl.AttributeProto.Builder a = OnnxMl.AttributeProto.newBuilder().setName(name)
                .setType(OnnxMl.AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    private static OnnxMl.AttributeProto intAttr(String name, long value) {
        return OnnxMl.AttributeProto.newBuilder().setName(name).setType(OnnxMl.AttributeProto.AttributeType.INT)
                .setI(value).build();
    }
}
