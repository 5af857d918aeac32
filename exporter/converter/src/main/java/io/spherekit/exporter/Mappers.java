package io.spherekit.exporter;

import io.spherekit.core.ModelMetadata.Key;
import io.spherekit.onnx.OnnxOp;
import io.spherekit.onnx.OnnxValue;
import io.spherekit.trainer.model.ChannelPReLU;
import io.spherekit.trainer.model.SphereConv2D;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.L2NormalizeVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.graph.ReshapeVertex;
import org.deeplearning4j.nn.conf.graph.ScaleVertex;
import org.deeplearning4j.nn.conf.graph.ShiftVertex;
import org.deeplearning4j.nn.conf.graph.SubsetVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Convolution1DLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Deconvolution2D;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PReLULayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.SpaceToDepthLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.Upsampling2D;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.conf.layers.convolutional.Cropping2D;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.nd4j.linalg.activations.IActivation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.LongStream;

/**
 * The vertex mappers, one small class per supported DL4J layer or vertex. {@link #ALL} is the registry: the first
 * mapper whose {@link VertexMapper#supports} accepts a vertex maps it, and the README's supported-layer table is
 * generated from it ({@link SupportedLayers}).
 *
 * <p>Conventions: ONNX activations are NCHW (an NHWC network is transposed at its input and output only); spatial sizes come from DL4J's own type propagation
 * ({@link MappingContext#inputType}), so every pad is written explicitly ({@code ConvolutionMode.Same}: total pad
 * {@code max(0, (ceil(in/s) − 1)·s + (k − 1)·d + 1 − in)}, the smaller half at the top/left as DL4J does);
 * weights are read in c order ({@link MappingContext#param}).
 */
final class Mappers {
    private Mappers() {
    }

    static final List<VertexMapper> ALL = List.of(
            new Conv(), new Convolution(), new Convolution1D(), new Depthwise(), new Separable(), new Deconv(), new PRelu(),
            new PReluLayer(), new ElementWise(), new Dense(), new Output(), new Loss(), new BatchNorm(),
            new Subsampling(), new GlobalPooling(), new ActivationOnly(), new Dropout(), new ZeroPadding(),
            new Cropping(), new Upsampling(), new SpaceToDepth(), new Lrn(), new Merge(), new Subset(), new Scale(), new Shift(),
            new L2Normalize(), new Reshape(), new Preprocessor(), new Recurrent.Embedding(), new Recurrent.EmbeddingSequence(),
            new Recurrent.Rnn(), new Recurrent.Bi(), new Recurrent.Last(), new Recurrent.RnnOutput());

    static Layer layerConf(MappingContext ctx, String name) {
        return layerOf(ctx.vertex(name));
    }

    static Layer layerOf(GraphVertex v) {
        return v instanceof LayerVertex lv ? lv.getLayerConf().getLayer() : null;
    }

    // ---------------------------------------------------------------- shared helpers

    static InputType.InputTypeConvolutional cnnInput(MappingContext ctx, String name) {
        InputType t = ctx.inputType(name);
        if (!(t instanceof InputType.InputTypeConvolutional c)) {
            throw new ExportException("layer '" + name + "' expects a CNN input, got " + t);
        }
        return c;
    }

    /**
     * Checks that the layer's data format is its input's (DL4J's own type propagation sets both). Either format is
     * fine: the ONNX tensors are NCHW throughout, NHWC only at the graph's input and output ({@link Dl4jToOnnx}).
     */
    static void checkFormat(MappingContext ctx, String name, CNN2DFormat f) {
        InputType t = ctx.inputType(name);
        if (f != null && t instanceof InputType.InputTypeConvolutional c && c.getFormat() != f) {
            throw new ExportException("layer '" + name + "' uses data format " + f + " but its input is " + c.getFormat());
        }
    }

    /** Whether the vertex's (first) input is an NHWC feature map. */
    static boolean nhwc(MappingContext ctx, String name) {
        return ctx.inputType(name) instanceof InputType.InputTypeConvolutional c && c.getFormat() == CNN2DFormat.NHWC;
    }

    /** A DL4J axis of a rank-4 tensor in the vertex input's format → the axis of the NCHW ONNX tensor. */
    static long onnxAxis(MappingContext ctx, String name, long axis) {
        if (!nhwc(ctx, name)) {
            return axis;
        }
        return new long[]{0, 2, 3, 1}[(int) axis];
    }

    /**
     * ONNX {@code pads} {@code [top, left, bottom, right]} for a window op on an {@code h×w} input.
     *
     * @throws ExportException for {@code ConvolutionMode.Causal} (1-D only) or an unknown mode
     */
    static long[] pads(String name, ConvolutionMode mode, int[] k, int[] s, int[] p, int[] d, long h, long w) {
        ConvolutionMode m = mode == null ? ConvolutionMode.Truncate : mode;
        switch (m) {
            case Same -> {
                long[] begin = new long[2];
                long[] end = new long[2];
                long[] in = {h, w};
                for (int i = 0; i < 2; i++) {
                    long out = (in[i] + s[i] - 1) / s[i];
                    long eff = (long) (k[i] - 1) * d[i] + 1;
                    long total = Math.max(0, (out - 1) * s[i] + eff - in[i]);
                    begin[i] = total / 2;
                    end[i] = total - begin[i];
                }
                return new long[]{begin[0], begin[1], end[0], end[1]};
            }
            case Truncate, Strict -> {
                return new long[]{p[0], p[1], p[0], p[1]};
            }
            default -> throw new ExportException("layer '" + name + "': ConvolutionMode." + m
                    + " is not supported for 2-D layers (supported: Same, Truncate, Strict)");
        }
    }

    static long[] longs(int[] a) {
        return Arrays.stream(a).asLongStream().toArray();
    }

    /**
     * The activation the vertex's mapper applies (convolutions, dense, output, loss and activation layers), or null
     * for vertices whose DL4J layer ignores its configured activation (batch norm, dropout, PReLU, pooling, ...).
     */
    static IActivation appliedActivation(GraphVertex v) {
        Layer l = layerOf(v);
        if (l instanceof ActivationLayer a) {
            return a.getActivationFn();
        }
        if (l instanceof LossLayer x) {
            return x.getActivationFn();
        }
        boolean applies = l instanceof ConvolutionLayer || l instanceof DenseLayer || l instanceof OutputLayer;
        return applies && l instanceof BaseLayer b ? b.getActivationFn() : null;
    }

    /** Batch-norm parameters as {gamma, beta, mean, var} (var from log10(std) when useLogStd). */
    static float[][] batchNormParams(MappingContext ctx, String name) {
        BatchNormalization bn = (BatchNormalization) layerConf(ctx, name);
        long c = bn.getNOut();
        String gammaKey = BatchNormalizationParamInitializer.GAMMA;
        String betaKey = BatchNormalizationParamInitializer.BETA;
        String meanKey = BatchNormalizationParamInitializer.GLOBAL_MEAN;
        String varKey = bn.isUseLogStd() ? BatchNormalizationParamInitializer.GLOBAL_LOG_STD
                : BatchNormalizationParamInitializer.GLOBAL_VAR;
        Set<String> expected = bn.isLockGammaBeta() ? Set.of(meanKey, varKey) : Set.of(gammaKey, betaKey, meanKey, varKey);
        ctx.checkParams(name, expected, expected);
        float[] gamma;
        float[] beta;
        if (bn.isLockGammaBeta()) {
            gamma = new float[(int) c];
            beta = new float[(int) c];
            Arrays.fill(gamma, (float) bn.getGamma());
            Arrays.fill(beta, (float) bn.getBeta());
        } else {
            gamma = ctx.param(name, gammaKey, c);
            beta = ctx.param(name, betaKey, c);
        }
        float[] mean = ctx.param(name, meanKey, c);
        float[] var = ctx.param(name, varKey, c);
        if (bn.isUseLogStd()) {
            for (int i = 0; i < var.length; i++) {
                var[i] = (float) Math.pow(10.0, 2.0 * var[i]);
            }
            MappingContext.checkFinite(name + "/" + varKey + " (as variance)", var);
        }
        return new float[][]{gamma, beta, mean, var};
    }

    /**
     * Emits a convolution with its activation; with a BatchNormalization folded into this vertex
     * ({@link MappingContext#foldedBatchNorm}), the weights become {@code W·γ/√(σ²+ε)} per output channel and the
     * bias {@code (b − μ)·γ/√(σ²+ε) + β}.
     *
     * @param w     weights in ONNX layout {@code [O, I/group, kH, kW]} (Conv) or {@code [I, O/group, kH, kW]} (ConvTranspose)
     * @param b     bias {@code [O]} or null
     */
    static OnnxValue conv(MappingContext ctx, String name, OnnxOp op, OnnxValue x, float[] w, long[] wShape, float[] b,
                          Map<String, Object> attrs, IActivation act) {
        long outChannels = op == OnnxOp.CONV_TRANSPOSE ? wShape[1] * (long) attrs.getOrDefault("group", 1L) : wShape[0];
        String bnName = ctx.foldedBatchNorm(name);
        if (bnName != null) {
            float[][] p = batchNormParams(ctx, bnName);
            double eps = ((BatchNormalization) layerConf(ctx, bnName)).getEps();
            int per = (int) (w.length / wShape[0]);
            float[] fb = new float[(int) outChannels];
            w = w.clone();
            for (int o = 0; o < outChannels; o++) {
                double scale = p[0][o] / Math.sqrt(p[3][o] + eps);
                for (int j = 0; j < per; j++) {
                    w[o * per + j] = (float) (w[o * per + j] * scale);
                }
                fb[o] = (float) (((b == null ? 0 : b[o]) - p[2][o]) * scale + p[1][o]);
            }
            b = fb;
            MappingContext.checkFinite(name + "/W folded with " + bnName, w);
        }
        List<OnnxValue> inputs = new ArrayList<>(List.of(x, ctx.onnx().floatInitializer(name + "_W", w, wShape)));
        if (b != null) {
            inputs.add(ctx.onnx().floatInitializer(name + "_b", b, outChannels));
        }
        OnnxValue y = ctx.node(op, name, inputs, attrs, Activations.isIdentity(act));
        return Activations.emit(ctx, name, act, y);
    }

    private static Map<String, Object> windowAttrs(int[] k, int[] s, long[] pads, int[] d, long group) {
        Map<String, Object> attrs = new LinkedHashMap<>();
        attrs.put("kernel_shape", longs(k));
        attrs.put("strides", longs(s));
        attrs.put("pads", pads);
        if (d != null) {
            attrs.put("dilations", longs(d));
        }
        if (group > 0) {
            attrs.put("group", group);
        }
        return attrs;
    }

    private static float[] biasOrNull(MappingContext ctx, String name, boolean hasBias, long n) {
        return hasBias ? ctx.param(name, "b", n) : null;
    }

    private static Set<String> keys(boolean hasBias, String... weights) {
        List<String> k = new ArrayList<>(List.of(weights));
        if (hasBias) {
            k.add("b");
        }
        return Set.copyOf(k);
    }

    // ---------------------------------------------------------------- convolutions

    /** {@link SphereConv2D} → Conv (OIHW weights, symmetric pads, strides, dilations). */
    static final class Conv implements VertexMapper {
        @Override public String description() { return "SphereConv2D -> Conv"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) instanceof SphereConv2D; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            SphereConv2D c = (SphereConv2D) layerOf(v);
            int[] k = c.getKernel();
            int[] s = c.getStride();
            int[] p = c.getPadding();
            int[] d = c.getDilation();
            Set<String> keys = c.isHasBias() ? Set.of(SphereConv2D.WEIGHT, SphereConv2D.BIAS) : Set.of(SphereConv2D.WEIGHT);
            ctx.checkParams(name, keys, keys);
            long[] wShape = {c.getNOut(), c.getNIn(), k[0], k[1]};
            float[] b = c.isHasBias() ? ctx.param(name, SphereConv2D.BIAS, c.getNOut()) : null;
            return conv(ctx, name, OnnxOp.CONV, in.get(0), ctx.param(name, SphereConv2D.WEIGHT, wShape), wShape, b,
                    windowAttrs(k, s, new long[]{p[0], p[1], p[0], p[1]}, d, 1), null);
        }
    }

    /**
     * {@link ConvolutionLayer} → Conv: W {@code [nOut, nIn, kH, kW]} as is, bias, ConvolutionMode Same (explicit
     * asymmetric pads) / Truncate / Strict, dilation, activation.
     */
    static final class Convolution implements VertexMapper {
        @Override public String description() { return "ConvolutionLayer -> Conv (+ activation)"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) != null && layerOf(v).getClass() == ConvolutionLayer.class; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            ConvolutionLayer c = (ConvolutionLayer) layerOf(v);
            checkFormat(ctx, name, c.getCnn2dDataFormat());
            InputType.InputTypeConvolutional t = cnnInput(ctx, name);
            Activations.check(name, c.getActivationFn(), ctx.activationType(name));
            int[] k = c.getKernelSize();
            ctx.checkParams(name, keys(c.isHasBias(), "W"), keys(c.isHasBias(), "W"));
            long[] wShape = {c.getNOut(), c.getNIn(), k[0], k[1]};
            long[] pads = pads(name, c.getConvolutionMode(), k, c.getStride(), c.getPadding(), c.getDilation(),
                    t.getHeight(), t.getWidth());
            return conv(ctx, name, OnnxOp.CONV, in.get(0), ctx.param(name, "W", wShape), wShape,
                    biasOrNull(ctx, name, c.isHasBias(), c.getNOut()),
                    windowAttrs(k, c.getStride(), pads, c.getDilation(), 1), c.getActivationFn());
        }
    }

    /**
     * {@link Convolution1DLayer} on an NCW sequence {@code [N, C, T]} → 1-D Conv {@code [nOut, nIn, k]} (DL4J's
     * buffer holds the taps as {@code [k, nIn, nOut]} whatever its declared shape); ConvolutionMode Same, Truncate, Strict, or Causal (all padding at the start,
     * {@code (k − 1)·d}); dilation, bias, activation.
     */
    static final class Convolution1D implements VertexMapper {
        @Override public String description() { return "Convolution1DLayer (NCW; Same, Truncate, Causal) -> Conv 1-D (+ activation)"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) instanceof Convolution1DLayer; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            Convolution1DLayer c = (Convolution1DLayer) layerOf(v);
            if (!(ctx.inputType(name) instanceof InputType.InputTypeRecurrent r) || r.getFormat() != RNNFormat.NCW
                    || r.getTimeSeriesLength() <= 0) {
                throw new ExportException("Convolution1DLayer '" + name + "' needs an NCW sequence input of known length, got "
                        + ctx.inputType(name));
            }
            Activations.check(name, c.getActivationFn(), ctx.activationType(name));
            int k = c.getKernelSize()[0];
            int s = c.getStride()[0];
            int d = c.getDilation()[0];
            long t = r.getTimeSeriesLength();
            ctx.checkParams(name, keys(c.isHasBias(), "W"), keys(c.isHasBias(), "W"));
            long[] pads;
            ConvolutionMode mode = c.getConvolutionMode() == null ? ConvolutionMode.Truncate : c.getConvolutionMode();
            long eff = (long) (k - 1) * d + 1;
            switch (mode) {
                case Causal -> pads = new long[]{eff - 1, 0};
                case Same -> {
                    long out = (t + s - 1) / s;
                    long total = Math.max(0, (out - 1) * s + eff - t);
                    pads = new long[]{total / 2, total - total / 2};
                }
                case Truncate, Strict -> pads = new long[]{c.getPadding()[0], c.getPadding()[0]};
                default -> throw new ExportException("Convolution1DLayer '" + name + "': ConvolutionMode." + mode + " is not supported");
            }
            // DL4J M2.1 declares W [nOut, nIn, k, 1] but its Conv1D reads the buffer as [k, nIn, nOut] (libnd4j's
            // [kW, iC, oC]; measured with unit impulses: output o, channel c, tap j at flat index (j·nIn + c)·nOut + o).
            float[] dl = ctx.param(name, "W", c.getNOut(), c.getNIn(), k, 1);
            long nIn = c.getNIn();
            float[] w = new float[dl.length];
            for (int o = 0; o < c.getNOut(); o++) {
                for (int j = 0; j < k; j++) {
                    for (int ch = 0; ch < nIn; ch++) {
                        w[(int) ((o * nIn + ch) * k + j)] = dl[(int) ((j * nIn + ch) * c.getNOut() + o)];
                    }
                }
            }
            Map<String, Object> attrs = new LinkedHashMap<>();
            attrs.put("kernel_shape", new long[]{k});
            attrs.put("strides", new long[]{s});
            attrs.put("pads", pads);
            attrs.put("dilations", new long[]{d});
            attrs.put("group", 1L);
            return conv(ctx, name, OnnxOp.CONV, in.get(0), w, new long[]{c.getNOut(), c.getNIn(), k},
                    biasOrNull(ctx, name, c.isHasBias(), c.getNOut()), attrs, c.getActivationFn());
        }
    }

    /**
     * {@link DepthwiseConvolution2D} → Conv with {@code group = nIn}: DL4J's W {@code [kH, kW, nIn, m]} becomes
     * {@code [nIn·m, 1, kH, kW]}, output channel {@code c·m + j} (DL4J's and ONNX's order for a depth multiplier m).
     */
    static final class Depthwise implements VertexMapper {
        @Override public String description() { return "DepthwiseConvolution2D -> Conv(group = nIn) (+ activation)"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) instanceof DepthwiseConvolution2D; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            DepthwiseConvolution2D c = (DepthwiseConvolution2D) layerOf(v);
            checkFormat(ctx, name, c.getCnn2dDataFormat());
            InputType.InputTypeConvolutional t = cnnInput(ctx, name);
            Activations.check(name, c.getActivationFn(), ctx.activationType(name));
            int[] k = c.getKernelSize();
            long nIn = c.getNIn();
            long m = c.getDepthMultiplier();
            ctx.checkParams(name, keys(c.isHasBias(), "W"), keys(c.isHasBias(), "W"));
            float[] dl = ctx.param(name, "W", k[0], k[1], nIn, m);
            float[] w = depthwiseToOnnx(dl, k[0], k[1], nIn, m);
            long[] pads = pads(name, c.getConvolutionMode(), k, c.getStride(), c.getPadding(), c.getDilation(),
                    t.getHeight(), t.getWidth());
            return conv(ctx, name, OnnxOp.CONV, in.get(0), w, new long[]{nIn * m, 1, k[0], k[1]},
                    biasOrNull(ctx, name, c.isHasBias(), nIn * m),
                    windowAttrs(k, c.getStride(), pads, c.getDilation(), nIn), c.getActivationFn());
        }
    }

    /** {@code [kH, kW, nIn, m]} (c order) → {@code [nIn·m, 1, kH, kW]}. */
    static float[] depthwiseToOnnx(float[] dl, long kh, long kw, long nIn, long m) {
        float[] w = new float[dl.length];
        for (int y = 0; y < kh; y++) {
            for (int x = 0; x < kw; x++) {
                for (int c = 0; c < nIn; c++) {
                    for (int j = 0; j < m; j++) {
                        w[(int) ((((c * m + j) * kh) + y) * kw + x)] = dl[(int) (((y * kw + x) * nIn + c) * m + j)];
                    }
                }
            }
        }
        return w;
    }

    /**
     * {@link SeparableConvolution2D} → depthwise Conv ({@code group = nIn}, no bias) then 1×1 Conv with the bias and
     * activation. DL4J's depthwise W {@code [m, nIn, kH, kW]} → {@code [nIn·m, 1, kH, kW]}; pointwise pW
     * {@code [nOut, nIn·m, 1, 1]} as is.
     */
    static final class Separable implements VertexMapper {
        @Override public String description() { return "SeparableConvolution2D -> Conv(group = nIn) + Conv 1x1 (+ activation)"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) instanceof SeparableConvolution2D; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            SeparableConvolution2D c = (SeparableConvolution2D) layerOf(v);
            checkFormat(ctx, name, c.getCnn2dDataFormat());
            InputType.InputTypeConvolutional t = cnnInput(ctx, name);
            Activations.check(name, c.getActivationFn(), ctx.activationType(name));
            int[] k = c.getKernelSize();
            long nIn = c.getNIn();
            long m = c.getDepthMultiplier();
            long nOut = c.getNOut();
            ctx.checkParams(name, keys(c.isHasBias(), "W", "pW"), keys(c.isHasBias(), "W", "pW"));
            float[] dl = ctx.param(name, "W", m, nIn, k[0], k[1]);
            float[] w = new float[dl.length];
            int per = k[0] * k[1];
            for (int j = 0; j < m; j++) {
                for (int ch = 0; ch < nIn; ch++) {
                    System.arraycopy(dl, (int) ((j * nIn + ch) * per), w, (int) ((ch * m + j) * per), per);
                }
            }
            long[] pads = pads(name, c.getConvolutionMode(), k, c.getStride(), c.getPadding(), c.getDilation(),
                    t.getHeight(), t.getWidth());
            OnnxValue dw = ctx.onnx().node(OnnxOp.CONV, name + "_depthwise", List.of(in.get(0),
                    ctx.onnx().floatInitializer(name + "_W", w, nIn * m, 1, k[0], k[1])),
                    windowAttrs(k, c.getStride(), pads, c.getDilation(), nIn));
            long[] pwShape = {nOut, nIn * m, 1, 1};
            return conv(ctx, name, OnnxOp.CONV, dw, ctx.param(name, "pW", pwShape), pwShape,
                    biasOrNull(ctx, name, c.isHasBias(), nOut),
                    windowAttrs(new int[]{1, 1}, new int[]{1, 1}, new long[]{0, 0, 0, 0}, null, 1), c.getActivationFn());
        }
    }

    /**
     * {@link Deconvolution2D} → ConvTranspose: W {@code [nIn, nOut, kH, kW]} as is. Truncate: pads p; Same: output
     * {@code in·s}, total pad {@code (k − 1)·d + 1 − s} (smaller half first), or an output_padding when negative.
     */
    static final class Deconv implements VertexMapper {
        @Override public String description() { return "Deconvolution2D -> ConvTranspose (+ activation)"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) instanceof Deconvolution2D; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            Deconvolution2D c = (Deconvolution2D) layerOf(v);
            checkFormat(ctx, name, c.getCnn2dDataFormat());
            cnnInput(ctx, name);
            Activations.check(name, c.getActivationFn(), ctx.activationType(name));
            int[] k = c.getKernelSize();
            int[] s = c.getStride();
            int[] d = c.getDilation();
            ctx.checkParams(name, keys(c.isHasBias(), "W"), keys(c.isHasBias(), "W"));
            long[] wShape = {c.getNIn(), c.getNOut(), k[0], k[1]};
            long[] pads;
            long[] outPad = {0, 0};
            ConvolutionMode mode = c.getConvolutionMode() == null ? ConvolutionMode.Truncate : c.getConvolutionMode();
            switch (mode) {
                case Same -> {
                    pads = new long[4];
                    for (int i = 0; i < 2; i++) {
                        long total = (long) (k[i] - 1) * d[i] + 1 - s[i];
                        if (total < 0) {
                            outPad[i] = -total;
                            total = 0;
                        }
                        pads[i] = total / 2;
                        pads[i + 2] = total - total / 2;
                    }
                }
                case Truncate, Strict -> pads = new long[]{c.getPadding()[0], c.getPadding()[1], c.getPadding()[0], c.getPadding()[1]};
                default -> throw new ExportException("layer '" + name + "': ConvolutionMode." + mode
                        + " is not supported for Deconvolution2D (supported: Same, Truncate, Strict)");
            }
            Map<String, Object> attrs = windowAttrs(k, s, pads, d, 1);
            if (outPad[0] != 0 || outPad[1] != 0) {
                attrs.put("output_padding", outPad);
            }
            // A folded batch norm scales output channels: dimension 1 of [nIn, nOut, kH, kW]; not planned for deconv.
            return conv(ctx, name, OnnxOp.CONV_TRANSPOSE, in.get(0), ctx.param(name, "W", wShape), wShape,
                    biasOrNull(ctx, name, c.isHasBias(), c.getNOut()), attrs, c.getActivationFn());
        }
    }

    /**
     * {@link ChannelPReLU} → PRelu with slope {@code [C,1,1]} (the DL4J parameter is {@code [1,C,1,1]}), or its
     * depthwise form {@code Add(Conv_dw(x; a), Conv_dw(Relu(x); 1 − a))} ({@link Dl4jToOnnx.PreluForm}).
     */
    static final class PRelu implements VertexMapper {
        @Override public String description() { return "ChannelPReLU -> PRelu (or Relu + 2 depthwise 1x1 Conv + Add)"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) instanceof ChannelPReLU; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            long c = ((ChannelPReLU) layerOf(v)).getNChannels();
            ctx.checkParams(name, Set.of(ChannelPReLU.ALPHA), Set.of(ChannelPReLU.ALPHA));
            float[] a = ctx.param(name, ChannelPReLU.ALPHA, 1, c, 1, 1);
            if (ctx.preluForm() == Dl4jToOnnx.PreluForm.PRELU) {
                OnnxValue slope = ctx.onnx().floatInitializer(name + "_slope", a, c, 1, 1);
                return ctx.finalNode(OnnxOp.PRELU, name, List.of(in.get(0), slope), Map.of());
            }
            float[] oneMinusA = new float[a.length];
            for (int i = 0; i < a.length; i++) {
                oneMinusA[i] = 1f - a[i];
            }
            OnnxValue wA = ctx.onnx().floatInitializer(name + "_slope_dw", a, c, 1, 1, 1);
            OnnxValue wB = ctx.onnx().floatInitializer(name + "_one_minus_slope_dw", oneMinusA, c, 1, 1, 1);
            Map<String, Object> dw = new LinkedHashMap<>();
            dw.put("group", c);
            dw.put("kernel_shape", new long[]{1, 1});
            OnnxValue relu = ctx.onnx().node(OnnxOp.RELU, name + "_relu", List.of(in.get(0)), Map.of());
            OnnxValue ax = ctx.onnx().node(OnnxOp.CONV, name + "_ax", List.of(in.get(0), wA), dw);
            OnnxValue br = ctx.onnx().node(OnnxOp.CONV, name + "_relu_scaled", List.of(relu, wB), dw);
            return ctx.finalNode(OnnxOp.ADD, name, List.of(ax, br), Map.of());
        }
    }

    /**
     * {@link PReLULayer} → PRelu with the slope in DL4J's own shape (the input shape without the batch dim, shared
     * axes of size 1: {@code [C,1,1]} for {@code sharedAxes(2,3)}; {@code [n]} on a 2-D input).
     */
    static final class PReluLayer implements VertexMapper {
        @Override public String description() { return "PReLULayer -> PRelu"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) instanceof PReLULayer; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            ctx.checkParams(name, Set.of("W"), Set.of("W"));
            long[] shape = ctx.layer(name).paramTable().get("W").shape();
            float[] a = ctx.param(name, "W", shape);
            if (shape.length == 3 && nhwc(ctx, name)) {
                // [H, W, C] → [C, H, W] for the NCHW tensor
                float[] p = new float[a.length];
                long h = shape[0];
                long w = shape[1];
                long c = shape[2];
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        for (int k = 0; k < c; k++) {
                            p[(int) ((k * h + y) * w + x)] = a[(int) ((y * w + x) * c + k)];
                        }
                    }
                }
                a = p;
                shape = new long[]{c, h, w};
            }
            return ctx.finalNode(OnnxOp.PRELU, name, List.of(in.get(0), ctx.onnx().floatInitializer(name + "_slope", a, shape)), Map.of());
        }
    }

    /**
     * {@link ElementWiseVertex} → Add (chain), Sub (2 inputs), Mul (chain), Mean, Max; inputs of equal shape.
     */
    static final class ElementWise implements VertexMapper {
        @Override public String description() { return "ElementWiseVertex(Add, Subtract, Product, Average, Max) -> Add/Sub/Mul/Mean/Max"; }

        @Override public boolean supports(GraphVertex v) { return v instanceof ElementWiseVertex; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            ElementWiseVertex.Op op = ((ElementWiseVertex) v).getOp();
            if (in.size() < 2 && op != ElementWiseVertex.Op.Average && op != ElementWiseVertex.Op.Max) {
                throw new ExportException("ElementWiseVertex '" + name + "' has " + in.size() + " input(s), expected >= 2");
            }
            switch (op) {
                case Add, Product -> {
                    OnnxOp o = op == ElementWiseVertex.Op.Add ? OnnxOp.ADD : OnnxOp.MUL;
                    OnnxValue acc = in.get(0);
                    for (int i = 1; i < in.size() - 1; i++) {
                        acc = ctx.onnx().node(o, name, List.of(acc, in.get(i)), Map.of());
                    }
                    return ctx.finalNode(o, name, List.of(acc, in.get(in.size() - 1)), Map.of());
                }
                case Subtract -> {
                    if (in.size() != 2) {
                        throw new ExportException("ElementWiseVertex '" + name + "' (Subtract) has " + in.size() + " inputs, expected 2");
                    }
                    return ctx.finalNode(OnnxOp.SUB, name, in, Map.of());
                }
                case Average -> { return ctx.finalNode(OnnxOp.MEAN, name, in, Map.of()); }
                case Max -> { return ctx.finalNode(OnnxOp.MAX, name, in, Map.of()); }
                default -> throw new ExportException("ElementWiseVertex '" + name + "': op " + op
                        + " is not supported (supported: Add, Subtract, Product, Average, Max)");
            }
        }
    }

    /** Gemm {@code x·W + b} (W {@code [nIn, nOut]}, transB = 0) then the activation. */
    static OnnxValue gemm(MappingContext ctx, String name, OnnxValue x, long nIn, long nOut, boolean hasBias, IActivation act) {
        Activations.check(name, act, ctx.activationType(name));
        ctx.checkParams(name, keys(hasBias, "W"), keys(hasBias, "W"));
        long features = ctx.inputType(name).arrayElementsPerExample();
        if (features != nIn) {
            throw new ExportException("layer '" + name + "' has nIn " + nIn + ", but its input " + ctx.inputType(name)
                    + " has " + features + " values per example: the input height/width (metadata "
                    + Key.INPUT_HEIGHT + "/width, default " + Dl4jToOnnx.DEFAULT_HEIGHT + "x" + Dl4jToOnnx.DEFAULT_WIDTH
                    + ") do not fit this network");
        }
        OnnxValue w = ctx.onnx().floatInitializer(name + "_W", ctx.param(name, "W", nIn, nOut), nIn, nOut);
        List<OnnxValue> inputs = hasBias
                ? List.of(x, w, ctx.onnx().floatInitializer(name + "_b", ctx.param(name, "b", nOut), nOut))
                : List.of(x, w);
        OnnxValue y = ctx.node(OnnxOp.GEMM, name, inputs, Map.of("alpha", 1.0f, "beta", 1.0f, "transA", 0L, "transB", 0L),
                Activations.isIdentity(act));
        return Activations.emit(ctx, name, act, y);
    }

    /** {@link DenseLayer} → Gemm (B = W {@code [nIn,nOut]}, transB = 0; C = b) + activation. */
    static final class Dense implements VertexMapper {
        @Override public String description() { return "DenseLayer -> Gemm (+ activation)"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) instanceof DenseLayer; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            DenseLayer d = (DenseLayer) layerOf(v);
            if (d.isHasLayerNorm()) {
                throw new ExportException("DenseLayer '" + name + "' uses layer normalisation, which is not supported");
            }
            return gemm(ctx, name, in.get(0), d.getNIn(), d.getNOut(), d.hasBias(), d.getActivationFn());
        }
    }

    /** {@link OutputLayer} → Gemm + activation; the loss function is dropped (inference). */
    static final class Output implements VertexMapper {
        @Override public String description() { return "OutputLayer -> Gemm (+ activation; loss dropped)"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) != null && layerOf(v).getClass() == OutputLayer.class; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            OutputLayer o = (OutputLayer) layerOf(v);
            return gemm(ctx, name, in.get(0), o.getNIn(), o.getNOut(), o.hasBias(), o.getActivationFn());
        }
    }

    /** {@link LossLayer} → its activation only (the loss function is dropped). */
    static final class Loss implements VertexMapper {
        @Override public String description() { return "LossLayer -> activation (loss dropped)"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) != null && layerOf(v).getClass() == LossLayer.class; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            IActivation a = ((LossLayer) layerOf(v)).getActivationFn();
            Activations.check(name, a, ctx.activationType(name));
            return Activations.emit(ctx, name, a, in.get(0));
        }
    }

    /** {@link ActivationLayer} → the activation's nodes. */
    static final class ActivationOnly implements VertexMapper {
        @Override public String description() { return "ActivationLayer -> activation (see the activation table)"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) instanceof ActivationLayer; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            IActivation a = ((ActivationLayer) layerOf(v)).getActivationFn();
            Activations.check(name, a, ctx.activationType(name));
            return Activations.emit(ctx, name, a, in.get(0));
        }
    }

    /** {@link DropoutLayer} → nothing (inference): its output is its input. */
    static final class Dropout implements VertexMapper {
        @Override public String description() { return "DropoutLayer -> (identity at inference)"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) instanceof DropoutLayer; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            return in.get(0);
        }
    }

    /**
     * {@link BatchNormalization} (inference form) → BatchNormalization with the global mean and variance, or nothing
     * when folded into the preceding convolution ({@link Dl4jToOnnx.Options#foldBatchNorm()}). With
     * {@code useLogStd} DL4J stores {@code log10(std)}, and the variance is {@code 10^(2·log10std)}; with
     * {@code lockGammaBeta} gamma and beta are the configured constants.
     */
    static final class BatchNorm implements VertexMapper {
        @Override public String description() { return "BatchNormalization(CNN or 2-D, inference) -> BatchNormalization, or folded into the preceding conv"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) instanceof BatchNormalization; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            BatchNormalization bn = (BatchNormalization) layerOf(v);
            // No activation check: DL4J's BatchNormalization layer never applies its (inherited) activation function.
            InputType t = ctx.activationType(name);
            if (t instanceof InputType.InputTypeConvolutional) {
                checkFormat(ctx, name, bn.getCnn2DFormat());
            }
            if (ctx.isFolded(name)) {
                return in.get(0);
            }
            long c = bn.getNOut();
            float[][] p = batchNormParams(ctx, name);
            List<OnnxValue> inputs = List.of(in.get(0),
                    ctx.onnx().floatInitializer(name + "_scale", p[0], c),
                    ctx.onnx().floatInitializer(name + "_B", p[1], c),
                    ctx.onnx().floatInitializer(name + "_mean", p[2], c),
                    ctx.onnx().floatInitializer(name + "_var", p[3], c));
            return ctx.finalNode(OnnxOp.BATCH_NORMALIZATION, name, inputs, Map.of("epsilon", (float) bn.getEps()));
        }
    }

    /**
     * {@link SubsamplingLayer} → MaxPool / AveragePool ({@code count_include_pad} from
     * {@code avgPoolIncludePadInDivisor}) / LpPool(p), with explicit pads (DL4J itself has no SUM subsampling).
     */
    static final class Subsampling implements VertexMapper {
        @Override public String description() { return "SubsamplingLayer(MAX, AVG, PNORM) -> MaxPool/AveragePool/LpPool"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) != null && layerOf(v).getClass() == SubsamplingLayer.class; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            SubsamplingLayer s = (SubsamplingLayer) layerOf(v);
            checkFormat(ctx, name, s.getCnn2dDataFormat());
            InputType.InputTypeConvolutional t = cnnInput(ctx, name);
            int[] k = s.getKernelSize();
            int[] d = s.getDilation() == null ? new int[]{1, 1} : s.getDilation();
            long[] pads = pads(name, s.getConvolutionMode(), k, s.getStride(), s.getPadding(), d, t.getHeight(), t.getWidth());
            boolean dilated = d[0] != 1 || d[1] != 1;
            PoolingType pt = s.getPoolingType();
            if (dilated && pt != PoolingType.MAX) {
                throw new ExportException("SubsamplingLayer '" + name + "': dilation " + Arrays.toString(d) + " with "
                        + pt + " pooling is not supported (only MAX pooling may be dilated)");
            }
            Map<String, Object> attrs = windowAttrs(k, s.getStride(), pads, null, 0);
            switch (pt) {
                case MAX -> {
                    if (dilated) {
                        attrs.put("dilations", longs(d));
                    }
                    return ctx.finalNode(OnnxOp.MAX_POOL, name, in, attrs);
                }
                case AVG -> {
                    attrs.put("count_include_pad", s.isAvgPoolIncludePadInDivisor() ? 1L : 0L);
                    return ctx.finalNode(OnnxOp.AVERAGE_POOL, name, in, attrs);
                }
                case PNORM -> {
                    attrs.put("p", (long) s.getPnorm());
                    return ctx.finalNode(OnnxOp.LP_POOL, name, in, attrs);
                }
                default -> throw new ExportException("SubsamplingLayer '" + name + "': pooling type " + pt + " is not supported");
            }
        }
    }

    /**
     * {@link GlobalPoolingLayer} on a CNN input (pooling dims 2,3) → GlobalAveragePool / GlobalMaxPool /
     * GlobalLpPool(p) / SUM as GlobalAveragePool·H·W, then Flatten to {@code [N, C]} (collapseDimensions).
     */
    static final class GlobalPooling implements VertexMapper {
        @Override public String description() { return "GlobalPoolingLayer(CNN or NCW sequence; MAX, AVG, SUM, PNORM) -> GlobalMaxPool/GlobalAveragePool/GlobalLpPool + Flatten"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) instanceof GlobalPoolingLayer; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            GlobalPoolingLayer g = (GlobalPoolingLayer) layerOf(v);
            InputType in0 = ctx.inputType(name);
            int[] dims = g.getPoolingDimensions();
            long area;
            if (in0 instanceof InputType.InputTypeRecurrent r && r.getFormat() == RNNFormat.NCW && r.getTimeSeriesLength() > 0) {
                if (dims != null && !Arrays.equals(dims, new int[]{2})) {
                    throw new ExportException("GlobalPoolingLayer '" + name + "': pooling dimensions " + Arrays.toString(dims)
                            + " are not supported on a sequence (only [2], the time axis of NCW)");
                }
                area = r.getTimeSeriesLength();
            } else {
                InputType.InputTypeConvolutional t = cnnInput(ctx, name);
                int[] spatial = t.getFormat() == CNN2DFormat.NHWC ? new int[]{1, 2} : new int[]{2, 3};
                if (dims != null && !Arrays.equals(dims, spatial)) {
                    throw new ExportException("GlobalPoolingLayer '" + name + "': pooling dimensions " + Arrays.toString(dims)
                            + " are not supported (only the spatial ones, " + Arrays.toString(spatial) + " for " + t.getFormat() + ")");
                }
                area = t.getHeight() * t.getWidth();
            }
            boolean collapse = g.isCollapseDimensions();
            PoolingType pt = g.getPoolingType();
            OnnxValue pooled = switch (pt) {
                case MAX -> ctx.node(OnnxOp.GLOBAL_MAX_POOL, name, in, Map.of(), !collapse);
                case AVG -> ctx.node(OnnxOp.GLOBAL_AVERAGE_POOL, name, in, Map.of(), !collapse);
                case PNORM -> ctx.node(OnnxOp.GLOBAL_LP_POOL, name, in, Map.of("p", (long) g.getPnorm()), !collapse);
                case SUM -> ctx.node(OnnxOp.MUL, name, List.of(ctx.onnx().node(OnnxOp.GLOBAL_AVERAGE_POOL, name + "_avg", in, Map.of()),
                        ctx.scalar(name + "_area", area)), Map.of(), !collapse);
                default -> throw new ExportException("GlobalPoolingLayer '" + name + "': pooling type " + pt + " is not supported");
            };
            return collapse ? ctx.finalNode(OnnxOp.FLATTEN, name, List.of(pooled), Map.of("axis", 1L)) : pooled;
        }
    }

    /** {@link ZeroPaddingLayer} {@code [top, bottom, left, right]} → Pad (constant 0). */
    static final class ZeroPadding implements VertexMapper {
        @Override public String description() { return "ZeroPaddingLayer -> Pad"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) instanceof ZeroPaddingLayer; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            ZeroPaddingLayer z = (ZeroPaddingLayer) layerOf(v);
            checkFormat(ctx, name, z.getDataFormat());
            cnnInput(ctx, name);
            int[] p = z.getPadding();
            OnnxValue pads = ctx.onnx().longs(name + "_pads", 0, 0, p[0], p[2], 0, 0, p[1], p[3]);
            return ctx.finalNode(OnnxOp.PAD, name, List.of(in.get(0), pads), Map.of("mode", "constant"));
        }
    }

    /** {@link Cropping2D} {@code [top, bottom, left, right]} → Slice on axes 2, 3. */
    static final class Cropping implements VertexMapper {
        @Override public String description() { return "Cropping2D -> Slice"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) instanceof Cropping2D; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            Cropping2D c = (Cropping2D) layerOf(v);
            checkFormat(ctx, name, c.getDataFormat());
            InputType.InputTypeConvolutional t = cnnInput(ctx, name);
            int[] p = c.getCropping();
            return ctx.finalNode(OnnxOp.SLICE, name, List.of(in.get(0),
                    ctx.onnx().longs(name + "_starts", p[0], p[2]),
                    ctx.onnx().longs(name + "_ends", t.getHeight() - p[1], t.getWidth() - p[3]),
                    ctx.onnx().longs(name + "_axes", 2, 3)), Map.of());
        }
    }

    /**
     * {@link Upsampling2D} (nearest, integer sizes) → Reshape {@code [N,C,H,1,W,1]}, Expand by {@code [1,1,1,sH,1,sW]},
     * Reshape {@code [N,C,H·sH,W·sW]}: exact repetition, the same at every opset (no Resize coordinate modes).
     */
    static final class Upsampling implements VertexMapper {
        @Override public String description() { return "Upsampling2D -> Reshape + Expand + Reshape (nearest)"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) instanceof Upsampling2D; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            Upsampling2D u = (Upsampling2D) layerOf(v);
            checkFormat(ctx, name, u.getFormat());
            InputType.InputTypeConvolutional t = cnnInput(ctx, name);
            int[] s = u.getSize();
            long c = t.getChannels();
            long h = t.getHeight();
            long w = t.getWidth();
            OnnxValue r = ctx.onnx().node(OnnxOp.RESHAPE, name + "_split", List.of(in.get(0),
                    ctx.onnx().longs(name + "_shape6", -1, c, h, 1, w, 1)), Map.of());
            OnnxValue e = ctx.onnx().node(OnnxOp.EXPAND, name + "_repeat", List.of(r,
                    ctx.onnx().longs(name + "_factors", 1, 1, 1, s[0], 1, s[1])), Map.of());
            return ctx.finalNode(OnnxOp.RESHAPE, name, List.of(e, ctx.onnx().longs(name + "_shape4", -1, c, h * s[0], w * s[1])), Map.of());
        }
    }

    /** {@link SpaceToDepthLayer} (block size b) → SpaceToDepth: channel {@code (by·b + bx)·C + c}, as DL4J orders it. */
    static final class SpaceToDepth implements VertexMapper {
        @Override public String description() { return "SpaceToDepthLayer -> SpaceToDepth"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) instanceof SpaceToDepthLayer; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            SpaceToDepthLayer l = (SpaceToDepthLayer) layerOf(v);
            checkFormat(ctx, name, l.getDataFormat());
            InputType.InputTypeConvolutional t = cnnInput(ctx, name);
            long b = l.getBlockSize();
            if (t.getHeight() % b != 0 || t.getWidth() % b != 0) {
                throw new ExportException("SpaceToDepthLayer '" + name + "': input " + t.getHeight() + "x" + t.getWidth()
                        + " is not divisible by the block size " + b);
            }
            return ctx.finalNode(OnnxOp.SPACE_TO_DEPTH, name, in, Map.of("blocksize", b));
        }
    }

    /**
     * {@link LocalResponseNormalization} (k, n, alpha, beta) → LRN(bias = k, size = n, alpha = alpha·n, beta): DL4J
     * sums {@code alpha·Σa²} over the window, ONNX divides its alpha by the size.
     */
    static final class Lrn implements VertexMapper {
        @Override public String description() { return "LocalResponseNormalization -> LRN"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) instanceof LocalResponseNormalization; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            LocalResponseNormalization l = (LocalResponseNormalization) layerOf(v);
            checkFormat(ctx, name, l.getDataFormat());
            cnnInput(ctx, name);
            long n = (long) l.getN();
            if (n != l.getN() || n % 2 == 0) {
                throw new ExportException("LocalResponseNormalization '" + name + "': n = " + l.getN() + " is not supported (odd integers only)");
            }
            return ctx.finalNode(OnnxOp.LRN, name, in, Map.of("alpha", (float) (l.getAlpha() * n), "beta", (float) l.getBeta(),
                    "bias", (float) l.getK(), "size", n));
        }
    }

    /** {@link MergeVertex} → Concat along the channel/feature axis 1. */
    static final class Merge implements VertexMapper {
        @Override public String description() { return "MergeVertex -> Concat (its merge axis)"; }

        @Override public boolean supports(GraphVertex v) { return v instanceof MergeVertex; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            int axis = ((MergeVertex) v).getMergeAxis();
            InputType t = ctx.inputType(name);
            int rank = t instanceof InputType.InputTypeConvolutional ? 4 : 2;
            if (axis < 1 || axis >= rank) {
                throw new ExportException("MergeVertex '" + name + "': merge axis " + axis + " is not supported for " + t);
            }
            return ctx.finalNode(OnnxOp.CONCAT, name, in, Map.of("axis", onnxAxis(ctx, name, axis)));
        }
    }

    /** {@link SubsetVertex} {@code [from, to]} (inclusive) → Slice on axis 1. */
    static final class Subset implements VertexMapper {
        @Override public String description() { return "SubsetVertex -> Slice(axis=1)"; }

        @Override public boolean supports(GraphVertex v) { return v instanceof SubsetVertex; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            SubsetVertex s = (SubsetVertex) v;
            return ctx.finalNode(OnnxOp.SLICE, name, List.of(in.get(0), ctx.onnx().longs(name + "_starts", s.getFrom()),
                    ctx.onnx().longs(name + "_ends", s.getTo() + 1L), ctx.onnx().longs(name + "_axes", onnxAxis(ctx, name, 1))), Map.of());
        }
    }

    /** {@link ScaleVertex} → Mul by the scalar factor. */
    static final class Scale implements VertexMapper {
        @Override public String description() { return "ScaleVertex -> Mul"; }

        @Override public boolean supports(GraphVertex v) { return v instanceof ScaleVertex; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            float f = (float) ((ScaleVertex) v).getScaleFactor();
            return ctx.finalNode(OnnxOp.MUL, name, List.of(in.get(0), ctx.scalar(name + "_factor", f)), Map.of());
        }
    }

    /** {@link ShiftVertex} → Add of the scalar shift. */
    static final class Shift implements VertexMapper {
        @Override public String description() { return "ShiftVertex -> Add"; }

        @Override public boolean supports(GraphVertex v) { return v instanceof ShiftVertex; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            float f = (float) ((ShiftVertex) v).getShiftFactor();
            return ctx.finalNode(OnnxOp.ADD, name, List.of(in.get(0), ctx.scalar(name + "_shift", f)), Map.of());
        }
    }

    /**
     * {@link L2NormalizeVertex} → {@code x / max(‖x‖₂, eps)} over the given dims (default: all but the batch) as
     * Mul, ReduceSum (axes input: valid at opsets 13–21), Sqrt, Max, Div.
     */
    static final class L2Normalize implements VertexMapper {
        @Override public String description() { return "L2NormalizeVertex -> x / max(sqrt(ReduceSum(x*x)), eps)"; }

        @Override public boolean supports(GraphVertex v) { return v instanceof L2NormalizeVertex; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            L2NormalizeVertex l = (L2NormalizeVertex) v;
            InputType t = ctx.inputType(name);
            int rank = t instanceof InputType.InputTypeConvolutional ? 4 : 2;
            int[] dims = l.getDimension();
            long[] axes = dims == null || dims.length == 0 || (dims.length == 1 && dims[0] == -1)
                    ? LongStream.range(1, rank).toArray()
                    : Arrays.stream(dims).mapToLong(d -> onnxAxis(ctx, name, d)).toArray();
            OnnxValue x = in.get(0);
            OnnxValue sq = ctx.onnx().node(OnnxOp.MUL, name + "_sq", List.of(x, x), Map.of());
            OnnxValue sum = ctx.onnx().node(OnnxOp.REDUCE_SUM, name + "_sumsq", List.of(sq, ctx.onnx().longs(name + "_axes", axes)),
                    Map.of("keepdims", 1L));
            OnnxValue norm = ctx.onnx().node(OnnxOp.SQRT, name + "_norm", List.of(sum), Map.of());
            OnnxValue safe = ctx.onnx().node(OnnxOp.MAX, name + "_safe", List.of(norm, ctx.scalar(name + "_eps", (float) l.getEps())), Map.of());
            return ctx.finalNode(OnnxOp.DIV, name, List.of(x, safe), Map.of());
        }
    }

    /**
     * {@link ReshapeVertex} (c order) → Reshape to its new shape, the batch dim copied (0) whatever DL4J's fixed
     * or -1 first entry; refused on an NHWC map (the ONNX tensor is NCHW there, so the c-order reading differs).
     */
    static final class Reshape implements VertexMapper {
        @Override public String description() { return "ReshapeVertex (c order) -> Reshape"; }

        @Override public boolean supports(GraphVertex v) { return v instanceof ReshapeVertex; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            ReshapeVertex r = (ReshapeVertex) v;
            if (r.getReshapeOrder() != 'c') {
                throw new ExportException("ReshapeVertex '" + name + "': order '" + r.getReshapeOrder() + "' is not supported (only 'c')");
            }
            if (nhwc(ctx, name)) {
                throw new ExportException("ReshapeVertex '" + name + "': reshaping an NHWC map is not supported");
            }
            long[] shape = longs(r.getNewShape());
            shape[0] = 0;
            return ctx.finalNode(OnnxOp.RESHAPE, name, List.of(in.get(0), ctx.onnx().longs(name + "_shape", shape)), Map.of());
        }
    }

    /** {@link PreprocessorVertex} → its preprocessor ({@link Dl4jToOnnx#preprocess}). */
    static final class Preprocessor implements VertexMapper {
        @Override public String description() { return "PreprocessorVertex(CnnToFeedForward, FeedForwardToCnn) -> Flatten / Reshape"; }

        @Override public boolean supports(GraphVertex v) { return v instanceof PreprocessorVertex; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            return Dl4jToOnnx.preprocess(ctx, name, ((PreprocessorVertex) v).getPreProcessor(), in, true);
        }
    }
}
