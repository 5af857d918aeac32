package io.spherekit.exporter;

import ai.onnx.proto.OnnxMl;
import io.spherekit.onnx.OnnxOp;
import io.spherekit.onnx.OnnxValue;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.AbstractLSTM;
import org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.GravesLSTM;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.conf.layers.recurrent.SimpleRnn;
import org.deeplearning4j.nn.params.BidirectionalParamInitializer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationHardSigmoid;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftSign;
import org.nd4j.linalg.activations.impl.ActivationTanH;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The mappers of DL4J's embedding and recurrent layers ({@link Mappers#ALL} lists them).
 *
 * <p>DL4J sequences are NCW {@code [N, F, T]}; ONNX {@code LSTM}/{@code RNN} read {@code [T, N, I]} and write
 * {@code Y [T, D, N, H]} (D directions), so a recurrent layer is {@code Transpose(2,0,1)}, the op, then
 * {@code Transpose(2,1,3,0)} to {@code [N, D, H, T]} and a Reshape to {@code [N, D·H, T]} (a bidirectional CONCAT puts
 * the forward features first, as DL4J does).
 *
 * <p>LSTM gate order: DL4J's {@code LSTMHelpers.activateHelper} reads the four {@code H}-wide column blocks of
 * {@code W [nIn, 4H]}, {@code RW [H, 4H]} and {@code b [4H]} as block 0 the cell candidate (layer activation), 1 the
 * forget gate, 2 the output gate, 3 the input gate (gate activation); {@code c = f·c + i·g}, {@code h = o·act(c)}, no
 * peepholes in {@code LSTM}. {@code GravesLSTM} has the same blocks plus three peephole columns at the end of
 * {@code RW [H, 4H + 3]}: forget (on the previous cell), output (on the new cell), input (on the previous cell), as
 * ONNX's {@code P [i, o, f]} uses them. ONNX orders the gates i, o, f, c
 * (the LSTM operator specification), so ONNX gate {@code j} is DL4J block {@code 3 − j}; the weights are transposed
 * to {@code [4H, I]} and the recurrent bias {@code Rb} is zero.
 */
final class Recurrent {
    private Recurrent() {
    }

    /** ONNX gate j (i, o, f, c) → DL4J column block. */
    static final int[] DL4J_BLOCK = {3, 2, 1, 0};

    /** ONNX recurrent-op activation names for the DL4J activations a recurrent layer may use. */
    static String onnxActivation(String name, IActivation a, boolean gate) {
        if (a instanceof ActivationSigmoid) {
            return "Sigmoid";
        }
        if (a instanceof ActivationHardSigmoid) {
            // DL4J: min(1, max(0, 0.2x + 0.5)), ONNX's default alpha and beta.
            return "HardSigmoid";
        }
        if (!gate) {
            if (a instanceof ActivationTanH) {
                return "Tanh";
            }
            if (a instanceof ActivationSoftSign) {
                return "Softsign";
            }
            if (a instanceof ActivationReLU r && (r.getMax() == null && (r.getThreshold() == null || r.getThreshold() == 0)
                    && (r.getNegativeSlope() == null || r.getNegativeSlope() == 0))) {
                return "Relu";
            }
        }
        throw new ExportException("recurrent layer '" + name + "': " + (gate ? "gate " : "") + "activation " + a
                + " is not supported (supported: " + (gate ? "Sigmoid, HardSigmoid" : "TanH, Sigmoid, HardSigmoid, SoftSign, ReLU") + ")");
    }

    /** The recurrent layer inside {@code l} (itself, or a Bidirectional's forward layer), or null. */
    static BaseRecurrentLayer cell(Layer l) {
        if (l instanceof Bidirectional b) {
            l = b.getFwd();
        }
        return l instanceof AbstractLSTM || l instanceof SimpleRnn ? (BaseRecurrentLayer) l : null;
    }

    /** Whether {@code layer} (a layer configuration, or null) outputs a sequence as long as its input. */
    static boolean keepsLength(Object layer) {
        return layer instanceof BaseRecurrentLayer || layer instanceof Bidirectional;
    }

    /** Whether {@code layer} (a layer configuration, or null) reads an NCW sequence whose length must be given. */
    static boolean needsSequenceInput(Object layer) {
        return layer instanceof BaseRecurrentLayer || layer instanceof Bidirectional || layer instanceof LastTimeStep
                || layer instanceof RnnOutputLayer || layer instanceof EmbeddingSequenceLayer;
    }

    /**
     * The configuration checks of a recurrent layer (data format, layer norm, activations, the Bidirectional's
     * layers), for the converter's pre-pass: nothing for other layers.
     *
     * @throws ExportException naming the layer and the problem
     */
    static void precheck(String name, Layer layer) {
        Layer l = layer instanceof LastTimeStep t ? t.getUnderlying() : layer;
        if (!(l instanceof Bidirectional) && cell(l) == null) {
            if (layer instanceof LastTimeStep) {
                throw new ExportException("LastTimeStep '" + name + "': underlying " + l.getClass().getName()
                        + " is not supported (LSTM, GravesLSTM, SimpleRnn, Bidirectional of one)");
            }
            return;
        }
        List<Layer> cells = new ArrayList<>();
        if (l instanceof Bidirectional b) {
            cells.add(b.getFwd());
            cells.add(b.getBwd());
        } else {
            cells.add(l);
        }
        for (Layer c : cells) {
            if (cell(c) == null) {
                throw new ExportException("Bidirectional '" + name + "': wrapped layer " + c.getClass().getName()
                        + " is not supported (LSTM, GravesLSTM, SimpleRnn)");
            }
            BaseRecurrentLayer r = (BaseRecurrentLayer) c;
            if (r instanceof SimpleRnn s && s.isHasLayerNorm()) {
                throw new ExportException("SimpleRnn '" + name + "' uses layer normalisation, which is not supported");
            }
            onnxActivation(name, r.getActivationFn(), false);
            if (r instanceof AbstractLSTM lstm) {
                onnxActivation(name, lstm.getGateActivationFn(), true);
            }
        }
    }

    /**
     * The layer's sequence input type. The ONNX tensors are NCW {@code [N, F, T]} throughout (an NWC network input or
     * output is transposed at the graph's edge), so a layer of either format maps alike; its format must be the
     * format of the sequence it reads (DL4J would otherwise read the axes swapped).
     */
    static InputType.InputTypeRecurrent sequenceInput(MappingContext ctx, String name, RNNFormat layerFormat) {
        if (!(ctx.inputType(name) instanceof InputType.InputTypeRecurrent r) || r.getTimeSeriesLength() <= 0) {
            throw new ExportException("recurrent layer '" + name + "' needs a sequence input of known length, got "
                    + ctx.inputType(name));
        }
        RNNFormat f = layerFormat == null ? RNNFormat.NCW : layerFormat;
        if (r.getFormat() != f) {
            throw new ExportException("recurrent layer '" + name + "' has data format " + f + " but reads a " + r.getFormat()
                    + " sequence; mixed formats are not supported");
        }
        return r;
    }

    /**
     * Emits {@code layer} (LSTM, SimpleRnn or a Bidirectional of one) on the NCW input {@code x}; the output is
     * {@code [N, F, T]}, the vertex's final node when {@code last}.
     */
    static OnnxValue emit(MappingContext ctx, String name, Layer layer, OnnxValue x, boolean last) {
        Bidirectional bi0 = layer instanceof Bidirectional b0 ? b0 : null;
        BaseRecurrentLayer c0 = cell(layer);
        InputType.InputTypeRecurrent in = sequenceInput(ctx, name, bi0 != null ? bi0.getRNNDataFormat()
                : c0 != null ? c0.getRnnDataFormat() : null);
        Bidirectional bi = bi0;
        BaseRecurrentLayer c = cell(layer);
        if (c == null) {
            throw new ExportException("layer '" + name + "': " + layer.getClass().getName()
                    + " is not supported (recurrent layers: LSTM, GravesLSTM, SimpleRnn, Bidirectional of one)");
        }
        if (bi != null && cell(bi.getBwd()) == null) {
            throw new ExportException("Bidirectional '" + name + "': backward layer " + bi.getBwd().getClass().getName() + " is not supported");
        }
        if (c instanceof SimpleRnn s && s.isHasLayerNorm()) {
            throw new ExportException("SimpleRnn '" + name + "' uses layer normalisation, which is not supported");
        }
        boolean lstm = c instanceof AbstractLSTM;
        boolean peepholes = c instanceof GravesLSTM;
        if (bi != null && (cell(bi.getBwd()) instanceof GravesLSTM) != peepholes) {
            throw new ExportException("Bidirectional '" + name + "': its forward and backward layers differ in kind");
        }
        long nIn = c.getNIn();
        long h = c.getNOut();
        if (nIn != in.getSize()) {
            throw new ExportException("recurrent layer '" + name + "' has nIn " + nIn + " but its input has " + in.getSize() + " features");
        }
        List<String> prefixes = bi == null ? List.of("")
                : List.of(BidirectionalParamInitializer.FORWARD_PREFIX, BidirectionalParamInitializer.BACKWARD_PREFIX);
        Set<String> keys = new HashSet<>();
        for (String p : prefixes) {
            keys.addAll(List.of(p + "W", p + "RW", p + "b"));
        }
        ctx.checkParams(name, keys, keys);
        int gates = lstm ? 4 : 1;
        int d = prefixes.size();
        float[] w = new float[(int) (d * gates * h * nIn)];
        float[] r = new float[(int) (d * gates * h * h)];
        float[] b = new float[(int) (d * 2 * gates * h)];
        float[] peep = peepholes ? new float[(int) (d * 3 * h)] : null;
        long rwCols = gates * h + (peepholes ? 3 : 0);
        List<String> acts = new ArrayList<>();
        for (int dir = 0; dir < d; dir++) {
            String p = prefixes.get(dir);
            Layer dl = dir == 0 ? c : cell(bi.getBwd());
            IActivation act = ((BaseRecurrentLayer) dl).getActivationFn();
            if (lstm) {
                acts.add(onnxActivation(name, ((AbstractLSTM) dl).getGateActivationFn(), true));
                acts.add(onnxActivation(name, act, false));
                acts.add(onnxActivation(name, act, false));
            } else {
                acts.add(onnxActivation(name, act, false));
            }
            float[] dw = ctx.param(name, p + "W", nIn, gates * h);
            float[] drw = ctx.param(name, p + "RW", h, rwCols);
            float[] db = ctx.param(name, p + "b", gates * h);
            for (int j = 0; j < gates; j++) {
                int blk = lstm ? DL4J_BLOCK[j] : 0;
                for (int u = 0; u < h; u++) {
                    long row = (long) dir * gates * h + (long) j * h + u;
                    long col = (long) blk * h + u;
                    for (int k = 0; k < nIn; k++) {
                        w[(int) (row * nIn + k)] = dw[(int) (k * gates * h + col)];
                    }
                    for (int k = 0; k < h; k++) {
                        r[(int) (row * h + k)] = drw[(int) (k * rwCols + col)];
                    }
                    b[(int) ((long) dir * 2 * gates * h + (long) j * h + u)] = db[(int) col];
                }
            }
            if (peepholes) {
                // GravesLSTM RW columns 4H, 4H+1, 4H+2: forget (previous cell), output (current cell), input gate
                // (previous cell), per unit; ONNX P is [i, o, f].
                long[] column = {4 * h + 2, 4 * h + 1, 4 * h};
                for (int j = 0; j < 3; j++) {
                    for (int u = 0; u < h; u++) {
                        peep[(int) ((long) dir * 3 * h + (long) j * h + u)] = drw[(int) (u * rwCols + column[j])];
                    }
                }
            }
        }
        OnnxValue xt = ctx.onnx().node(OnnxOp.TRANSPOSE, name + "_tni", List.of(x), Map.of("perm", new long[]{2, 0, 1}));
        Map<String, Object> attrs = new LinkedHashMap<>();
        attrs.put("hidden_size", h);
        attrs.put("direction", d == 2 ? "bidirectional" : "forward");
        attrs.put("activations", acts);
        List<OnnxValue> inputs = new ArrayList<>(List.of(xt,
                ctx.onnx().floatInitializer(name + "_W", w, d, gates * h, nIn),
                ctx.onnx().floatInitializer(name + "_R", r, d, gates * h, h),
                ctx.onnx().floatInitializer(name + "_B", b, d, 2L * gates * h)));
        if (peepholes) {
            // sequence_lens, initial_h, initial_c omitted
            inputs.addAll(List.of(ctx.onnx().absent(), ctx.onnx().absent(), ctx.onnx().absent(),
                    ctx.onnx().floatInitializer(name + "_P", peep, d, 3 * h)));
        }
        OnnxValue y = ctx.onnx().node(lstm ? OnnxOp.LSTM : OnnxOp.RNN, name + (lstm ? "_lstm" : "_rnn"), inputs, attrs);
        long outD = d;
        if (bi != null && bi.getMode() != Bidirectional.Mode.CONCAT) {
            OnnxValue fw = ctx.onnx().node(OnnxOp.SLICE, name + "_fwd", List.of(y, ctx.onnx().longs(name + "_s0", 0),
                    ctx.onnx().longs(name + "_e0", 1), ctx.onnx().longs(name + "_axis0", 1)), Map.of());
            OnnxValue bw = ctx.onnx().node(OnnxOp.SLICE, name + "_bwd", List.of(y, ctx.onnx().longs(name + "_s1", 1),
                    ctx.onnx().longs(name + "_e1", 2), ctx.onnx().longs(name + "_axis1", 1)), Map.of());
            y = switch (bi.getMode()) {
                case ADD -> ctx.onnx().node(OnnxOp.ADD, name + "_add", List.of(fw, bw), Map.of());
                case MUL -> ctx.onnx().node(OnnxOp.MUL, name + "_mul", List.of(fw, bw), Map.of());
                case AVERAGE -> ctx.onnx().node(OnnxOp.MUL, name + "_average", List.of(
                        ctx.onnx().node(OnnxOp.ADD, name + "_sum", List.of(fw, bw), Map.of()), ctx.scalar(name + "_half", 0.5f)), Map.of());
                default -> throw new ExportException("Bidirectional '" + name + "': mode " + bi.getMode() + " is not supported");
            };
            outD = 1;
        }
        OnnxValue ndht = ctx.onnx().node(OnnxOp.TRANSPOSE, name + "_ndht", List.of(y), Map.of("perm", new long[]{2, 1, 3, 0}));
        return ctx.node(OnnxOp.RESHAPE, name, List.of(ndht, ctx.onnx().longs(name + "_shape", 0, outD * h, in.getTimeSeriesLength())),
                Map.of(), last);
    }

    /** {@link LSTM} / {@link SimpleRnn} (NCW) → LSTM / RNN between transposes. */
    static final class Rnn implements VertexMapper {
        @Override public String description() { return "LSTM, GravesLSTM (peepholes), SimpleRnn (NCW or NWC; gates Sigmoid or HardSigmoid; activation TanH, Sigmoid, HardSigmoid, SoftSign or ReLU) -> LSTM / RNN (gates reordered to iofc) between Transposes"; }

        @Override public boolean supports(GraphVertex v) {
            Layer l = Mappers.layerOf(v);
            return l instanceof LSTM || l instanceof GravesLSTM || l instanceof SimpleRnn;
        }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            return emit(ctx, name, Mappers.layerOf(v), in.get(0), true);
        }
    }

    /** {@link Bidirectional} of LSTM or SimpleRnn → direction=bidirectional; CONCAT, or ADD/MUL/AVERAGE of the two. */
    static final class Bi implements VertexMapper {
        @Override public String description() { return "Bidirectional(LSTM, GravesLSTM or SimpleRnn; CONCAT, ADD, MUL, AVERAGE) -> LSTM / RNN direction=bidirectional (+ Slice, Add/Mul)"; }

        @Override public boolean supports(GraphVertex v) { return Mappers.layerOf(v) instanceof Bidirectional; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            return emit(ctx, name, Mappers.layerOf(v), in.get(0), true);
        }
    }

    /** {@link LastTimeStep} of a recurrent layer → the layer, then Gather(axis=2) at step T − 1: {@code [N, F]}. */
    static final class Last implements VertexMapper {
        @Override public String description() { return "LastTimeStep(LSTM, GravesLSTM, SimpleRnn or Bidirectional) -> the layer + Gather(axis=2, T-1)"; }

        @Override public boolean supports(GraphVertex v) { return Mappers.layerOf(v) instanceof LastTimeStep; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            Layer u = ((LastTimeStep) Mappers.layerOf(v)).getUnderlying();
            OnnxValue seq = emit(ctx, name, u, in.get(0), false);
            long t = ((InputType.InputTypeRecurrent) ctx.inputType(name)).getTimeSeriesLength();
            return ctx.finalNode(OnnxOp.GATHER, name, List.of(seq, ctx.onnx().longInitializer(name + "_last", new long[]{t - 1})),
                    Map.of("axis", 2L));
        }
    }

    /**
     * {@link RnnOutputLayer} (NCW) → a 1-D Conv with kernel 1: W {@code [nIn, nOut]} transposed to
     * {@code [nOut, nIn, 1]}, bias, then the activation (softmax over axis 1, the features of each time step, as
     * DL4J applies it); the loss is dropped.
     */
    static final class RnnOutput implements VertexMapper {
        @Override public String description() { return "RnnOutputLayer (NCW or NWC) -> Conv 1-D kernel 1 (+ activation, softmax per time step; loss dropped)"; }

        @Override public boolean supports(GraphVertex v) { return Mappers.layerOf(v) instanceof RnnOutputLayer; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            RnnOutputLayer o = (RnnOutputLayer) Mappers.layerOf(v);
            InputType.InputTypeRecurrent r = sequenceInput(ctx, name, o.getRnnDataFormat());
            long nIn = o.getNIn();
            long nOut = o.getNOut();
            if (nIn != r.getSize()) {
                throw new ExportException("RnnOutputLayer '" + name + "' has nIn " + nIn + " but its input has " + r.getSize() + " features");
            }
            // Softmax runs over axis 1, the features of each step of [N, nOut, T]: checked as on a 2-D output.
            Activations.check(name, o.getActivationFn(), InputType.feedForward(nOut));
            Set<String> keys = o.hasBias() ? Set.of("W", "b") : Set.of("W");
            ctx.checkParams(name, keys, keys);
            float[] dw = ctx.param(name, "W", nIn, nOut);
            float[] w = new float[dw.length];
            for (int i = 0; i < nIn; i++) {
                for (int j = 0; j < nOut; j++) {
                    w[(int) (j * nIn + i)] = dw[(int) (i * nOut + j)];
                }
            }
            Map<String, Object> attrs = new LinkedHashMap<>();
            attrs.put("kernel_shape", new long[]{1});
            attrs.put("strides", new long[]{1});
            attrs.put("pads", new long[]{0, 0});
            return Mappers.conv(ctx, name, OnnxOp.CONV, in.get(0), w, new long[]{nOut, nIn, 1},
                    o.hasBias() ? ctx.param(name, "b", nOut) : null, attrs, o.getActivationFn());
        }
    }

    /** Float indices → int64 (Cast truncates toward zero, as DL4J's index cast does). */
    private static OnnxValue indices(MappingContext ctx, String name, OnnxValue x, long... shape) {
        OnnxValue i = ctx.onnx().node(OnnxOp.CAST, name + "_indices", List.of(x),
                Map.of("to", (long) OnnxMl.TensorProto.DataType.INT64.getNumber()));
        return ctx.onnx().node(OnnxOp.RESHAPE, name + "_idx", List.of(i, ctx.onnx().longs(name + "_idx_shape", shape)), Map.of());
    }

    /** {@link EmbeddingLayer} (input {@code [N, 1]} of indices) → Cast(int64) + Gather(W) + bias + activation. */
    static final class Embedding implements VertexMapper {
        @Override public String description() { return "EmbeddingLayer -> Cast(int64) + Gather (+ bias, activation)"; }

        @Override public boolean supports(GraphVertex v) { return Mappers.layerOf(v) instanceof EmbeddingLayer; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            EmbeddingLayer e = (EmbeddingLayer) Mappers.layerOf(v);
            Activations.check(name, e.getActivationFn(), ctx.activationType(name));
            if (ctx.inputType(name).arrayElementsPerExample() != 1) {
                throw new ExportException("EmbeddingLayer '" + name + "' needs one index per example ([N, 1]), got " + ctx.inputType(name));
            }
            Set<String> keys = e.isHasBias() ? Set.of("W", "b") : Set.of("W");
            ctx.checkParams(name, keys, keys);
            OnnxValue w = ctx.onnx().floatInitializer(name + "_W", ctx.param(name, "W", e.getNIn(), e.getNOut()), e.getNIn(), e.getNOut());
            boolean plain = !e.isHasBias() && Activations.isIdentity(e.getActivationFn());
            OnnxValue y = ctx.node(OnnxOp.GATHER, name, List.of(w, indices(ctx, name, in.get(0), -1)), Map.of("axis", 0L), plain);
            if (e.isHasBias()) {
                y = ctx.node(OnnxOp.ADD, name, List.of(y, ctx.onnx().floatInitializer(name + "_b", ctx.param(name, "b", e.getNOut()),
                        e.getNOut())), Map.of(), Activations.isIdentity(e.getActivationFn()));
            }
            return Activations.emit(ctx, name, e.getActivationFn(), y);
        }
    }

    /**
     * {@link EmbeddingSequenceLayer} (input {@code [N, 1, T]} NCW of indices, output NCW {@code [N, nOut, T]}) →
     * Cast(int64) + Gather(W) {@code [N, T, nOut]} + Transpose(0,2,1) + bias + activation.
     */
    static final class EmbeddingSequence implements VertexMapper {
        @Override public String description() { return "EmbeddingSequenceLayer (NCW) -> Cast(int64) + Gather + Transpose (+ bias, activation)"; }

        @Override public boolean supports(GraphVertex v) { return Mappers.layerOf(v) instanceof EmbeddingSequenceLayer; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            EmbeddingSequenceLayer e = (EmbeddingSequenceLayer) Mappers.layerOf(v);
            Activations.check(name, e.getActivationFn(), ctx.activationType(name));
            if (!(ctx.inputType(name) instanceof InputType.InputTypeRecurrent r) || r.getSize() != 1 || r.getTimeSeriesLength() <= 0
                    || r.getFormat() != RNNFormat.NCW) {
                throw new ExportException("EmbeddingSequenceLayer '" + name + "' needs an NCW index sequence [N, 1, T] of known length, got "
                        + ctx.inputType(name));
            }
            if (e.getOutputFormat() != null && e.getOutputFormat() != RNNFormat.NCW) {
                throw new ExportException("EmbeddingSequenceLayer '" + name + "': output format " + e.getOutputFormat() + " is not supported (only NCW)");
            }
            Set<String> keys = e.isHasBias() ? Set.of("W", "b") : Set.of("W");
            ctx.checkParams(name, keys, keys);
            OnnxValue w = ctx.onnx().floatInitializer(name + "_W", ctx.param(name, "W", e.getNIn(), e.getNOut()), e.getNIn(), e.getNOut());
            OnnxValue g = ctx.onnx().node(OnnxOp.GATHER, name + "_gather", List.of(w,
                    indices(ctx, name, in.get(0), 0, r.getTimeSeriesLength())), Map.of("axis", 0L));
            boolean plain = !e.isHasBias() && Activations.isIdentity(e.getActivationFn());
            OnnxValue y = ctx.node(OnnxOp.TRANSPOSE, name, List.of(g), Map.of("perm", new long[]{0, 2, 1}), plain);
            if (e.isHasBias()) {
                y = ctx.node(OnnxOp.ADD, name, List.of(y, ctx.onnx().floatInitializer(name + "_b", ctx.param(name, "b", e.getNOut()),
                        e.getNOut(), 1)), Map.of(), Activations.isIdentity(e.getActivationFn()));
            }
            return Activations.emit(ctx, name, e.getActivationFn(), y);
        }
    }
}
