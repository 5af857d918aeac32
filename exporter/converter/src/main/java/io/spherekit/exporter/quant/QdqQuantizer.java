package io.spherekit.exporter.quant;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites a float32 ONNX model into static int8 QDQ form: {@code QuantizeLinear → DequantizeLinear} pairs on the
 * activations around the quantisable nodes, and weights stored as integers behind a {@code DequantizeLinear}. ONNX
 * Runtime's QDQ transformer then fuses each {@code DQ → op → Q} group into its integer kernel (QLinearConv, QGemm,
 * QLinearMatMul, QLinearAdd/Mul, QLinearAveragePool...).
 *
 * <p>Scheme (ONNX Runtime's recommended one on x86-64: uint8 activations with int8 weights, "U8S8"; see its
 * quantisation guide, "Data type selection"):
 * <ul>
 *   <li><b>Weights</b> of Conv ({@code W [O, I/g, kH, kW]}: axis 0), Gemm ({@code B}: axis 1, or 0 with
 *       {@code transB=1}) and MatMul (2-D {@code B [K, N]}: axis 1): symmetric int8 per output channel,
 *       {@code scale_c = max|w_c| / 127}, zero point 0, values in {@code [-127, 127]}; with {@code weightMax = 63}
 *       ("reduce range", 7-bit weights in {@code [-63, 63]}) as ONNX Runtime's quantiser offers for x86 CPUs without
 *       AVX-512 VNNI, whose U8S8 kernels (vpmaddubsw) add two uint8·int8 products in int16 and saturate when
 *       {@code 2·255·127 > 32767}; {@code 2·255·63 = 32130} cannot.</li>
 *   <li><b>Bias</b> (Conv {@code B [O]}, Gemm {@code C [N]}): int32, {@code scale_c = input_scale · weight_scale_c},
 *       zero point 0 (the integer accumulator's scale, so the kernels add it without rescaling).</li>
 *   <li><b>Activations</b>: per tensor from the calibrated {@code [min, max]} (widened to include 0, so 0 is exact):
 *       uint8 asymmetric {@code scale = (max - min) / 255}, {@code zp = round(-min / scale)}; or int8 asymmetric
 *       ({@link ActivationType#INT8}).</li>
 *   <li>Quantised: every float activation that is an input of a Conv, Gemm, MatMul, Add, Mul, AveragePool or
 *       GlobalAveragePool, and every output of those nodes that is not a graph output (graph outputs stay float: the
 *       last Gemm runs as an integer GEMM with a float result). Flatten, Reshape and MaxPool pass their input's
 *       parameters on to their output, so ONNX Runtime drops their QDQ pair. A Relu that is the only consumer of a
 *       quantised node's output is quantised in its place (its output, not its input), so ONNX Runtime fuses it into
 *       the node's integer kernel.</li>
 * </ul>
 * The output opset is the input's, raised to 13 (per-axis {@code DequantizeLinear}) when lower.
 */
public final class QdqQuantizer {

    /** Minimum opset: per-axis QuantizeLinear/DequantizeLinear. */
    public static final int MIN_OPSET = 13;

    /** Ops whose inputs and outputs are quantised. */
    static final Set<String> COMPUTE = Set.of("Conv", "Gemm", "MatMul");
    static final Set<String> ELEMENTWISE = Set.of("Add", "Mul", "AveragePool", "GlobalAveragePool");
    /** Ops whose output takes its input's quantisation parameters. */
    static final Set<String> PASSTHROUGH = Set.of("Flatten", "Reshape", "MaxPool");

    /** Integer type of the activations. */
    public enum ActivationType { UINT8, INT8 }

    /**
     * A tensor's calibrated range.
     *
     * @param min smallest value (clipped, see {@link Thresholds#clip})
     * @param max largest value
     */
    public record Range(float min, float max) {
    }

    /** Scale and zero point of one activation tensor. */
    record Params(float scale, int zeroPoint) {
    }

    private QdqQuantizer() {
    }

    /**
     * The float activations whose ranges {@link #quantize} needs: inputs of the quantised nodes (graph inputs
     * included, initializers excluded) and their outputs that are not graph outputs, in graph order.
     *
     * @throws IllegalArgumentException when the model has no quantisable node
     */
    public static List<String> tensorsToCalibrate(ModelProto model) {
        GraphProto g = model.getGraph();
        Set<String> inits = initializerNames(g);
        Set<String> outputs = new HashSet<>();
        g.getOutputList().forEach(o -> outputs.add(o.getName()));
        Map<String, List<NodeProto>> consumers = new HashMap<>();
        for (NodeProto n : g.getNodeList()) {
            n.getInputList().forEach(i -> consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n));
        }
        Set<String> out = new LinkedHashSet<>();
        boolean any = false;
        for (NodeProto n : g.getNodeList()) {
            if (!quantisable(n, inits)) {
                continue;
            }
            any = any || COMPUTE.contains(n.getOpType());
            for (String in : activationInputs(n, inits)) {
                out.add(in);
            }
            for (String o : n.getOutputList()) {
                if (!o.isEmpty() && !outputs.contains(o)) {
                    out.add(reluAfter(o, consumers, outputs));
                }
            }
        }
        if (!any) {
            throw new IllegalArgumentException("the model has no Conv, Gemm or MatMul node with a float32 initializer weight to quantise");
        }
        return new ArrayList<>(out);
    }

    /**
     * The tensor to quantise for output {@code o}: the output of the {@code Relu} that is {@code o}'s only consumer
     * (so the producer → Relu → QuantizeLinear chain becomes one integer kernel: ONNX Runtime drops a Relu before a
     * QuantizeLinear whose zero point is the type's minimum, which a calibrated Relu output always has), else
     * {@code o} itself.
     */
    private static String reluAfter(String o, Map<String, List<NodeProto>> consumers, Set<String> graphOutputs) {
        List<NodeProto> c = consumers.getOrDefault(o, List.of());
        if (c.size() == 1 && c.get(0).getOpType().equals("Relu") && c.get(0).getInputCount() == 1
                && !graphOutputs.contains(c.get(0).getOutput(0))) {
            return c.get(0).getOutput(0);
        }
        return o;
    }

    /** Largest weight magnitude of the full int8 range. */
    public static final int FULL_WEIGHT_MAX = 127;
    /** Largest weight magnitude with reduce range (7-bit weights; no int16 saturation in U8S8 AVX2 kernels). */
    public static final int REDUCED_WEIGHT_MAX = 63;

    /**
     * Quantises {@code model} with weights in {@code [-weightMax, weightMax]}.
     *
     * @param model       float32 model (weights as float32 initializers)
     * @param ranges      the calibrated range of every tensor of {@link #tensorsToCalibrate}
     * @param activations integer type of the activations
     * @param weightMax   {@link #FULL_WEIGHT_MAX} (127) or {@link #REDUCED_WEIGHT_MAX} (63); any value in [1, 127]
     * @param metadata    {@code metadata_props} entries to set (added to, or replacing, the model's)
     * @return the QDQ model
     * @throws IllegalArgumentException naming a tensor without a range or a weight that is not float32, or a
     *                                  {@code weightMax} outside [1, 127]
     */
    public static ModelProto quantize(ModelProto model, Map<String, Range> ranges, ActivationType activations,
                                      int weightMax, Map<String, String> metadata) {
        if (weightMax < 1 || weightMax > 127) {
            throw new IllegalArgumentException("weightMax must be in [1, 127], got " + weightMax);
        }
        GraphProto g = model.getGraph();
        Set<String> inits = initializerNames(g);
        Map<String, TensorProto> initByName = new HashMap<>();
        g.getInitializerList().forEach(t -> initByName.put(t.getName(), t));
        Set<String> graphOutputs = new HashSet<>();
        g.getOutputList().forEach(o -> graphOutputs.add(o.getName()));

        // 1. the quantised activations and their parameters (passthrough outputs take their input's)
        Map<String, Params> params = new LinkedHashMap<>();
        for (String t : tensorsToCalibrate(model)) {
            Range r = ranges.get(t);
            if (r == null) {
                throw new IllegalArgumentException("no calibrated range for tensor '" + t + "'");
            }
            params.put(t, params(r, activations));
        }
        for (NodeProto n : g.getNodeList()) {
            if (PASSTHROUGH.contains(n.getOpType()) && params.containsKey(n.getInput(0))
                    && params.containsKey(n.getOutput(0))) {
                params.put(n.getOutput(0), params.get(n.getInput(0)));
            }
        }

        GraphProto.Builder out = g.toBuilder().clearNode();
        List<TensorProto> newInits = new ArrayList<>();
        Set<String> replacedInits = new HashSet<>();
        // Q nodes right after each producer; graph inputs first
        Map<String, String> quantized = new HashMap<>();
        List<NodeProto> nodes = new ArrayList<>();
        for (var in : g.getInputList()) {
            if (params.containsKey(in.getName())) {
                nodes.add(quantizeNode(in.getName(), params.get(in.getName()), activations, newInits, quantized));
            }
        }
        Map<String, Integer> dqCount = new HashMap<>();
        for (NodeProto n : g.getNodeList()) {
            NodeProto.Builder nb = n.toBuilder();
            boolean q = quantisable(n, inits);
            // every consumer of a quantised tensor reads it through its own DequantizeLinear, so the producer's only
            // consumer is its QuantizeLinear (what ONNX Runtime needs to fuse the producer's output Q)
            for (int i = 0; i < n.getInputCount(); i++) {
                String in = n.getInput(i);
                if (quantized.containsKey(in)) {
                    int k = dqCount.merge(in, 1, Integer::sum);
                    String dq = in + "_dq" + (k == 1 ? "" : "_" + k);
                    nodes.add(dequantizeNode(quantized.get(in), in, dq, -1));
                    nb.setInput(i, dq);
                }
            }
            if (q && COMPUTE.contains(n.getOpType())) {
                quantizeWeights(n, nb, initByName, params, newInits, replacedInits, nodes, weightMax);
            }
            nodes.add(nb.build());
            for (String o : n.getOutputList()) {
                if (params.containsKey(o) && !graphOutputs.contains(o)) {
                    nodes.add(quantizeNode(o, params.get(o), activations, newInits, quantized));
                }
            }
        }
        out.addAllNode(nodes);
        out.clearInitializer();
        for (TensorProto t : g.getInitializerList()) {
            if (!replacedInits.contains(t.getName()) || stillUsed(t.getName(), nodes)) {
                out.addInitializer(t);
            }
        }
        out.addAllInitializer(newInits);
        // initializers listed as graph inputs (older models) must keep matching the initializer list
        List<OnnxMl.ValueInfoProto> inputs = new ArrayList<>(out.getInputList());
        Set<String> initNames = new HashSet<>();
        out.getInitializerList().forEach(t -> initNames.add(t.getName()));
        inputs.removeIf(v -> inits.contains(v.getName()) && !initNames.contains(v.getName()));
        out.clearInput().addAllInput(inputs);
        out.clearValueInfo();

        ModelProto.Builder mb = model.toBuilder().setGraph(out);
        boolean found = false;
        for (int i = 0; i < mb.getOpsetImportCount(); i++) {
            OnnxMl.OperatorSetIdProto o = mb.getOpsetImport(i);
            if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
                found = true;
                if (o.getVersion() < MIN_OPSET) {
                    mb.setOpsetImport(i, o.toBuilder().setVersion(MIN_OPSET));
                }
            }
        }
        if (!found) {
            mb.addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(MIN_OPSET));
        }
        if (mb.getIrVersion() < 7) {
            mb.setIrVersion(7);
        }
        Map<String, String> all = new java.util.TreeMap<>();
        model.getMetadataPropsList().forEach(e -> all.put(e.getKey(), e.getValue()));
        all.putAll(metadata);
        mb.clearMetadataProps();
        all.forEach((k, v) -> mb.addMetadataProps(OnnxMl.StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        return mb.build();
    }

    private static boolean stillUsed(String name, List<NodeProto> nodes) {
        for (NodeProto n : nodes) {
            if (n.getInputList().contains(name)) {
                return true;
            }
        }
        return false;
    }

    /** Activation parameters of a range, widened to include 0. */
    static Params params(Range r, ActivationType type) {
        double lo = Math.min(0, r.min());
        double hi = Math.max(0, r.max());
        int qmin = type == ActivationType.UINT8 ? 0 : -128;
        int qmax = type == ActivationType.UINT8 ? 255 : 127;
        if (!(hi > lo)) {
            return new Params(1f, type == ActivationType.UINT8 ? 0 : 0);
        }
        float scale = (float) ((hi - lo) / (qmax - qmin));
        long zp = Math.round(qmin - lo / scale);
        return new Params(scale, (int) Math.max(qmin, Math.min(qmax, zp)));
    }

    private static NodeProto quantizeNode(String tensor, Params p, ActivationType type, List<TensorProto> inits,
                                          Map<String, String> quantized) {
        String scale = tensor + "_scale";
        String zp = tensor + "_zero_point";
        inits.add(floatScalar(scale, p.scale()));
        TensorProto.Builder z = TensorProto.newBuilder().setName(zp);
        if (type == ActivationType.UINT8) {
            z.setDataType(TensorProto.DataType.UINT8_VALUE);
        } else {
            z.setDataType(TensorProto.DataType.INT8_VALUE);
        }
        z.setRawData(ByteString.copyFrom(new byte[]{(byte) p.zeroPoint()}));
        inits.add(z.build());
        String q = tensor + "_quantized";
        quantized.put(tensor, q);
        return NodeProto.newBuilder().setOpType("QuantizeLinear").setName(tensor + "_QuantizeLinear")
                .addInput(tensor).addInput(scale).addInput(zp).addOutput(q).build();
    }

    /** {@code DequantizeLinear(q, q's scale, q's zero point)}; {@code axis >= 0} for per-axis. */
    private static NodeProto dequantizeNode(String q, String floatName, String out, int axis) {
        NodeProto.Builder b = NodeProto.newBuilder().setOpType("DequantizeLinear").setName(out + "_DequantizeLinear")
                .addInput(q).addInput(floatName + "_scale").addInput(floatName + "_zero_point").addOutput(out);
        if (axis >= 0) {
            b.addAttribute(AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(axis));
        }
        return b.build();
    }

    private static void quantizeWeights(NodeProto n, NodeProto.Builder nb, Map<String, TensorProto> initByName,
                                        Map<String, Params> params, List<TensorProto> newInits,
                                        Set<String> replaced, List<NodeProto> nodes, int weightMax) {
        String op = n.getOpType();
        int wIndex = 1;
        int axis;
        if (op.equals("Conv")) {
            axis = 0;
        } else if (op.equals("Gemm")) {
            axis = intAttr(n, "transB", 0) == 1 ? 0 : 1;
        } else {
            axis = 1;
        }
        TensorProto w = initByName.get(n.getInput(wIndex));
        float[] wv = floats(w);
        long[] dims = w.getDimsList().stream().mapToLong(Long::longValue).toArray();
        if (op.equals("MatMul") && dims.length != 2) {
            throw new IllegalArgumentException("MatMul '" + n.getName() + "': only 2-D weights are quantised, got "
                    + dims.length + "-D " + w.getName());
        }
        int channels = (int) dims[axis];
        long inner = 1;
        for (int d = axis + 1; d < dims.length; d++) {
            inner *= dims[d];
        }
        float[] scales = new float[channels];
        for (int i = 0; i < wv.length; i++) {
            int c = (int) ((i / inner) % channels);
            scales[c] = Math.max(scales[c], Math.abs(wv[i]));
        }
        for (int c = 0; c < channels; c++) {
            scales[c] = scales[c] > 0 ? scales[c] / weightMax : 1f;
        }
        byte[] q = new byte[wv.length];
        for (int i = 0; i < wv.length; i++) {
            int c = (int) ((i / inner) % channels);
            q[i] = (byte) Math.max(-weightMax, Math.min(weightMax, Math.round(wv[i] / scales[c])));
        }
        String base = n.getName().isEmpty() ? w.getName() : n.getName() + "_" + w.getName();
        String wq = base + "_quantized";
        newInits.add(TensorProto.newBuilder().setName(wq).addAllDims(w.getDimsList())
                .setDataType(TensorProto.DataType.INT8_VALUE).setRawData(ByteString.copyFrom(q)).build());
        newInits.add(floatVector(base + "_scale", scales));
        newInits.add(TensorProto.newBuilder().setName(base + "_zero_point").addDims(channels)
                .setDataType(TensorProto.DataType.INT8_VALUE).setRawData(ByteString.copyFrom(new byte[channels])).build());
        String wdq = base + "_dq";
        nodes.add(dequantizeNode(wq, base, wdq, axis));
        nb.setInput(wIndex, wdq);
        replaced.add(w.getName());

        int bIndex = 2;
        if (n.getInputCount() > bIndex && !n.getInput(bIndex).isEmpty() && initByName.containsKey(n.getInput(bIndex))) {
            TensorProto b = initByName.get(n.getInput(bIndex));
            if (b.getDimsCount() == 1 && b.getDims(0) == channels
                    && b.getDataType() == TensorProto.DataType.FLOAT_VALUE
                    && !(op.equals("Gemm") && floatAttr(n, "beta", 1f) != 1f)
                    && !(op.equals("Gemm") && floatAttr(n, "alpha", 1f) != 1f)) {
                float inScale = params.get(n.getInput(0)).scale();
                float[] bv = floats(b);
                float[] bs = new float[channels];
                ByteBuffer bq = ByteBuffer.allocate(4 * channels).order(ByteOrder.LITTLE_ENDIAN);
                for (int c = 0; c < channels; c++) {
                    bs[c] = inScale * scales[c];
                    long v = Math.round(bv[c] / (double) bs[c]);
                    bq.putInt((int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v)));
                }
                String bbase = n.getName().isEmpty() ? b.getName() : n.getName() + "_" + b.getName();
                newInits.add(TensorProto.newBuilder().setName(bbase + "_quantized").addDims(channels)
                        .setDataType(TensorProto.DataType.INT32_VALUE).setRawData(ByteString.copyFrom(bq.array())).build());
                newInits.add(floatVector(bbase + "_scale", bs));
                newInits.add(TensorProto.newBuilder().setName(bbase + "_zero_point").addDims(channels)
                        .setDataType(TensorProto.DataType.INT32_VALUE)
                        .setRawData(ByteString.copyFrom(new byte[4 * channels])).build());
                String bdq = bbase + "_dq";
                nodes.add(dequantizeNode(bbase + "_quantized", bbase, bdq, 0));
                nb.setInput(bIndex, bdq);
                replaced.add(b.getName());
            }
        }
    }

    /** A node is quantised when its op is and (compute ops) its weight is a float32 initializer. */
    static boolean quantisable(NodeProto n, Set<String> inits) {
        String op = n.getOpType();
        if (COMPUTE.contains(op)) {
            if (n.getInputCount() < 2 || !inits.contains(n.getInput(1)) || inits.contains(n.getInput(0))) {
                return false;
            }
            return true;
        }
        if (op.equals("Add") || op.equals("Mul")) {
            return n.getInputCount() == 2 && !inits.contains(n.getInput(0)) && !inits.contains(n.getInput(1));
        }
        return ELEMENTWISE.contains(op);
    }

    private static List<String> activationInputs(NodeProto n, Set<String> inits) {
        List<String> r = new ArrayList<>();
        if (COMPUTE.contains(n.getOpType())) {
            r.add(n.getInput(0));
        } else {
            for (String in : n.getInputList()) {
                if (!in.isEmpty() && !inits.contains(in)) {
                    r.add(in);
                }
            }
        }
        return r;
    }

    private static Set<String> initializerNames(GraphProto g) {
        Set<String> s = new HashSet<>();
        g.getInitializerList().forEach(t -> s.add(t.getName()));
        return s;
    }

    static int intAttr(NodeProto n, String name, int dflt) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                return (int) a.getI();
            }
        }
        return dflt;
    }

    static float floatAttr(NodeProto n, String name, float dflt) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getF();
            }
        }
        return dflt;
    }

    /** The values of a float32 tensor (raw little-endian data or {@code float_data}). */
    static float[] floats(TensorProto t) {
        if (t.getDataType() != TensorProto.DataType.FLOAT_VALUE) {
            throw new IllegalArgumentException("weight '" + t.getName() + "' is "
                    + TensorProto.DataType.forNumber(t.getDataType()) + ", not float32 (export without --fp16-weights)");
        }
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            throw new IllegalArgumentException("weight '" + t.getName() + "' is stored externally; not supported");
        }
        if (!t.getRawData().isEmpty()) {
            ByteBuffer bb = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            float[] v = new float[bb.remaining() / 4];
            bb.asFloatBuffer().get(v);
            return v;
        }
        float[] v = new float[t.getFloatDataCount()];
        for (int i = 0; i < v.length; i++) {
            v[i] = t.getFloatData(i);
        }
        return v;
    }

    private static TensorProto floatScalar(String name, float v) {
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v);
        return TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(b.array())).build();
    }

    private static TensorProto floatVector(String name, float[] v) {
        return floatTensor(name, v, v.length);
    }

    /** A float32 initializer with raw little-endian data; {@code dims} must multiply to {@code v.length}. */
    static TensorProto floatTensor(String name, float[] v, long... dims) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(b.array()));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }
}
