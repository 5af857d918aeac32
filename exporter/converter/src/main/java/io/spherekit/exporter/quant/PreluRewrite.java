package io.spherekit.exporter.quant;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites every per-channel PReLU of a float32 NCHW model, {@code y = max(0,x) + a_c·min(0,x)}, into the form whose
 * QDQ version runs entirely in ONNX Runtime's integer kernels:
 * <pre>
 *   y = x + (1 − a_c)·Relu(−x)      as   n = Relu(Conv_dw(x; −1)),  y = Add(x, Conv_dw(n; 1 − a))
 * </pre>
 * (1×1 depthwise {@code Conv}s, {@code group = C}, no bias). The same function: for x &gt; 0 the Relu term is 0; for
 * x &lt; 0 it is {@code (1 − a)·(−x)}, so {@code y = a·x}.
 *
 * <p>Why: the float forms of PReLU both leave a float step in int8. A {@code PRelu} node has no integer kernel in
 * ONNX Runtime. The exporter's depthwise form {@code Add(Conv_dw(x; a), Conv_dw(Relu(x); 1 − a))} puts a {@code Relu}
 * on a tensor that has a second consumer; ONNX Runtime folds that Relu into the following QuantizeLinear (zero point 0)
 * but keeps a DequantizeLinear → QuantizeLinear requantisation of the whole activation per PReLU (measured at 30 % of
 * the demo model's int8 time, BENCHMARKS.md "int8"). Here the Relu follows a Conv whose only consumer it is, so with
 * {@link QdqQuantizer} (which then quantises the Relu's output, not the Conv's) ONNX Runtime fuses it into the
 * QLinearConv, and the Add becomes a QLinearAdd.
 *
 * <p>Recognised: a {@code PRelu} whose slope is a float32 initializer of shape {@code [C,1,1]} or {@code [1,C,1,1]},
 * and the exporter's depthwise form ({@code Dl4jToOnnx.PreluForm#DEPTHWISE}: two bias-free 1×1 depthwise Convs whose
 * weights sum to 1 per channel, one on {@code x} and one on {@code Relu(x)}, summed by an Add, each intermediate with
 * that single consumer). Anything else is left as it is.
 */
public final class PreluRewrite {

    /** Largest |a + (1 − a) − 1| accepted as the depthwise form (float rounding of {@code 1f - a}). */
    static final float SUM_TOLERANCE = 1e-5f;

    /**
     * @param model     the rewritten model (the input itself when nothing matched)
     * @param rewritten number of PReLUs rewritten
     */
    public record Result(ModelProto model, int rewritten) {
    }

    private PreluRewrite() {
    }

    /**
     * Rewrites every recognised PReLU of {@code model}; graph inputs, outputs and every other node are unchanged.
     *
     * @param model float32 ONNX model
     * @return the rewritten model and the count
     */
    public static Result apply(ModelProto model) {
        GraphProto g = model.getGraph();
        Map<String, TensorProto> inits = new HashMap<>();
        g.getInitializerList().forEach(t -> inits.put(t.getName(), t));
        Map<String, NodeProto> producer = new HashMap<>();
        Map<String, Integer> consumers = new HashMap<>();
        for (NodeProto n : g.getNodeList()) {
            n.getOutputList().forEach(o -> producer.put(o, n));
            n.getInputList().forEach(i -> consumers.merge(i, 1, Integer::sum));
        }
        g.getOutputList().forEach(o -> consumers.merge(o.getName(), 1, Integer::sum));
        Set<String> names = new HashSet<>(inits.keySet());
        for (NodeProto n : g.getNodeList()) {
            names.addAll(n.getOutputList());
            names.add(n.getName());
        }

        Set<NodeProto> removed = new HashSet<>();
        Map<NodeProto, List<NodeProto>> replaceAt = new HashMap<>();
        List<TensorProto> newInits = new ArrayList<>();
        for (NodeProto n : g.getNodeList()) {
            Match m = n.getOpType().equals("PRelu") ? matchPrelu(n, inits)
                    : n.getOpType().equals("Add") ? matchDepthwise(n, inits, producer, consumers) : null;
            if (m == null) {
                continue;
            }
            String base = unique(names, (n.getName().isEmpty() ? n.getOutput(0) : n.getName()) + "_nrelu");
            int c = m.slope.length;
            float[] minusOne = new float[c];
            float[] oneMinusA = new float[c];
            for (int i = 0; i < c; i++) {
                minusOne[i] = -1f;
                oneMinusA[i] = 1f - m.slope[i];
            }
            String wNeg = unique(names, base + "_neg_w");
            String wScale = unique(names, base + "_one_minus_slope_w");
            newInits.add(QdqQuantizer.floatTensor(wNeg, minusOne, c, 1, 1, 1));
            newInits.add(QdqQuantizer.floatTensor(wScale, oneMinusA, c, 1, 1, 1));
            String neg = unique(names, base + "_neg");
            String relu = unique(names, base + "_neg_relu");
            String scaled = unique(names, base + "_neg_scaled");
            List<NodeProto> repl = List.of(
                    depthwiseConv(neg, m.x, wNeg, c),
                    NodeProto.newBuilder().setOpType("Relu").setName(relu).addInput(neg).addOutput(relu).build(),
                    depthwiseConv(scaled, relu, wScale, c),
                    NodeProto.newBuilder().setOpType("Add").setName(base).addInput(m.x).addInput(scaled)
                            .addOutput(n.getOutput(0)).build());
            removed.addAll(m.nodes);
            replaceAt.put(n, repl);
        }
        if (replaceAt.isEmpty()) {
            return new Result(model, 0);
        }
        GraphProto.Builder out = g.toBuilder().clearNode();
        Set<String> stillRead = new HashSet<>();
        for (NodeProto n : g.getNodeList()) {
            if (replaceAt.containsKey(n)) {
                out.addAllNode(replaceAt.get(n));
            } else if (!removed.contains(n)) {
                out.addNode(n);
            }
        }
        out.getNodeList().forEach(n -> stillRead.addAll(n.getInputList()));
        Set<String> produced = new HashSet<>();
        out.getNodeList().forEach(n -> produced.addAll(n.getOutputList()));
        List<TensorProto> keep = new ArrayList<>();
        for (TensorProto t : g.getInitializerList()) {
            if (stillRead.contains(t.getName())) {
                keep.add(t);
            }
        }
        keep.addAll(newInits);
        out.clearInitializer().addAllInitializer(keep);
        // drop shape annotations of the tensors that are gone, and initializers listed as inputs that are gone
        var vi = new ArrayList<>(out.getValueInfoList());
        vi.removeIf(v -> !produced.contains(v.getName()));
        out.clearValueInfo().addAllValueInfo(vi);
        var ins = new ArrayList<>(out.getInputList());
        ins.removeIf(v -> inits.containsKey(v.getName()) && !stillRead.contains(v.getName()));
        out.clearInput().addAllInput(ins);
        return new Result(model.toBuilder().setGraph(out).build(), replaceAt.size());
    }

    /** A recognised PReLU: its input, per-channel slope and the nodes it replaces. */
    private record Match(String x, float[] slope, List<NodeProto> nodes) {
    }

    private static Match matchPrelu(NodeProto n, Map<String, TensorProto> inits) {
        if (n.getInputCount() != 2 || !inits.containsKey(n.getInput(1))) {
            return null;
        }
        TensorProto s = inits.get(n.getInput(1));
        List<Long> d = s.getDimsList();
        boolean chw = d.size() == 3 && d.get(1) == 1 && d.get(2) == 1;
        boolean nchw = d.size() == 4 && d.get(0) == 1 && d.get(2) == 1 && d.get(3) == 1;
        if (!(chw || nchw) || s.getDataType() != TensorProto.DataType.FLOAT_VALUE) {
            return null;
        }
        return new Match(n.getInput(0), QdqQuantizer.floats(s), List.of(n));
    }

    private static Match matchDepthwise(NodeProto add, Map<String, TensorProto> inits, Map<String, NodeProto> producer,
                                        Map<String, Integer> consumers) {
        if (add.getInputCount() != 2) {
            return null;
        }
        for (int k = 0; k < 2; k++) {
            NodeProto onX = producer.get(add.getInput(k));
            NodeProto onRelu = producer.get(add.getInput(1 - k));
            if (!isDepthwise1x1(onX, inits) || !isDepthwise1x1(onRelu, inits)) {
                continue;
            }
            NodeProto relu = producer.get(onRelu.getInput(0));
            if (relu == null || !relu.getOpType().equals("Relu") || !relu.getInput(0).equals(onX.getInput(0))) {
                continue;
            }
            if (consumers.get(add.getInput(0)) != 1 || consumers.get(add.getInput(1)) != 1
                    || consumers.get(relu.getOutput(0)) != 1) {
                continue;
            }
            float[] a = QdqQuantizer.floats(inits.get(onX.getInput(1)));
            float[] b = QdqQuantizer.floats(inits.get(onRelu.getInput(1)));
            if (a.length != b.length) {
                continue;
            }
            boolean sumsToOne = true;
            for (int i = 0; i < a.length; i++) {
                sumsToOne &= Math.abs(a[i] + b[i] - 1f) <= SUM_TOLERANCE;
            }
            if (sumsToOne) {
                return new Match(onX.getInput(0), a, List.of(relu, onX, onRelu, add));
            }
        }
        return null;
    }

    /** A bias-free 1×1 depthwise Conv (weight {@code [C,1,1,1]}, group C) with default strides, pads, dilations. */
    private static boolean isDepthwise1x1(NodeProto n, Map<String, TensorProto> inits) {
        if (n == null || !n.getOpType().equals("Conv") || n.getInputCount() != 2 || !inits.containsKey(n.getInput(1))) {
            return false;
        }
        TensorProto w = inits.get(n.getInput(1));
        List<Long> d = w.getDimsList();
        if (w.getDataType() != TensorProto.DataType.FLOAT_VALUE || d.size() != 4 || d.get(1) != 1 || d.get(2) != 1
                || d.get(3) != 1 || QdqQuantizer.intAttr(n, "group", 1) != d.get(0)) {
            return false;
        }
        for (AttributeProto at : n.getAttributeList()) {
            switch (at.getName()) {
                case "group", "kernel_shape" -> { }
                case "strides", "dilations" -> {
                    if (at.getIntsList().stream().anyMatch(v -> v != 1)) {
                        return false;
                    }
                }
                case "pads" -> {
                    if (at.getIntsList().stream().anyMatch(v -> v != 0)) {
                        return false;
                    }
                }
                case "auto_pad" -> {
                    String p = at.getS().toStringUtf8();
                    if (!p.equals("NOTSET") && !p.equals("VALID")) {
                        return false;
                    }
                }
                default -> {
                    return false;
                }
            }
        }
        return true;
    }

    private static NodeProto depthwiseConv(String name, String in, String w, int c) {
        return NodeProto.newBuilder().setOpType("Conv").setName(name).addInput(in).addInput(w).addOutput(name)
                .addAttribute(AttributeProto.newBuilder().setName("group").setType(AttributeProto.AttributeType.INT).setI(c))
                .addAttribute(AttributeProto.newBuilder().setName("kernel_shape").setType(AttributeProto.AttributeType.INTS)
                        .addInts(1).addInts(1))
                .build();
    }

    private static String unique(Set<String> names, String want) {
        String s = want;
        for (int i = 2; names.contains(s); i++) {
            s = want + "_" + i;
        }
        names.add(s);
        return s;
    }
}
