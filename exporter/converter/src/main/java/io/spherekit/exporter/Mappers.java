package io.spherekit.exporter;

import io.spherekit.core.ModelMetadata.Key;
import io.spherekit.onnx.OnnxOp;
import io.spherekit.onnx.OnnxValue;
import io.spherekit.trainer.model.ChannelPReLU;
import io.spherekit.trainer.model.SphereConv2D;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.nd4j.linalg.activations.impl.ActivationIdentity;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The vertex mappers, one small class per supported DL4J layer or vertex. */
final class Mappers {
    private Mappers() {
    }

    static final List<VertexMapper> ALL = List.of(
            new Conv(), new PRelu(), new Add(), new Dense(), new BatchNorm());

    static Layer layerOf(GraphVertex v) {
        return v instanceof LayerVertex lv ? lv.getLayerConf().getLayer() : null;
    }

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
            ctx.checkParams(name, c.isHasBias() ? Set.of(SphereConv2D.WEIGHT, SphereConv2D.BIAS) : Set.of(SphereConv2D.WEIGHT),
                    c.isHasBias() ? Set.of(SphereConv2D.WEIGHT, SphereConv2D.BIAS) : Set.of(SphereConv2D.WEIGHT));
            long[] wShape = {c.getNOut(), c.getNIn(), k[0], k[1]};
            OnnxValue w = ctx.onnx().floatInitializer(name + "_W", ctx.param(name, SphereConv2D.WEIGHT, wShape), wShape);
            List<OnnxValue> inputs = c.isHasBias()
                    ? List.of(in.get(0), w, ctx.onnx().floatInitializer(name + "_b",
                        ctx.param(name, SphereConv2D.BIAS, c.getNOut()), c.getNOut()))
                    : List.of(in.get(0), w);
            Map<String, Object> attrs = new LinkedHashMap<>();
            attrs.put("kernel_shape", new long[]{k[0], k[1]});
            attrs.put("strides", new long[]{s[0], s[1]});
            attrs.put("pads", new long[]{p[0], p[1], p[0], p[1]});
            attrs.put("dilations", new long[]{d[0], d[1]});
            attrs.put("group", 1L);
            return ctx.finalNode(OnnxOp.CONV, name, inputs, attrs);
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

    /** {@code ElementWiseVertex(Add)} → Add (a chain of Adds for more than two inputs). */
    static final class Add implements VertexMapper {
        @Override public String description() { return "ElementWiseVertex(Add) -> Add"; }

        @Override
        public boolean supports(GraphVertex v) {
            return v instanceof ElementWiseVertex e && e.getOp() == ElementWiseVertex.Op.Add;
        }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            if (in.size() < 2) {
                throw new ExportException("ElementWiseVertex '" + name + "' has " + in.size() + " input(s), expected >= 2");
            }
            OnnxValue acc = in.get(0);
            for (int i = 1; i < in.size() - 1; i++) {
                acc = ctx.onnx().node(OnnxOp.ADD, name, List.of(acc, in.get(i)), Map.of());
            }
            return ctx.finalNode(OnnxOp.ADD, name, List.of(acc, in.get(in.size() - 1)), Map.of());
        }
    }

    /** {@link DenseLayer} with identity activation → Gemm (B = W {@code [nIn,nOut]}, transB = 0; C = b). */
    static final class Dense implements VertexMapper {
        @Override public String description() { return "DenseLayer(identity) -> Gemm"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) instanceof DenseLayer; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            DenseLayer d = (DenseLayer) layerOf(v);
            if (!(d.getActivationFn() instanceof ActivationIdentity)) {
                throw new ExportException("DenseLayer '" + name + "' has activation " + d.getActivationFn()
                        + "; only identity is supported");
            }
            ctx.checkParams(name, d.hasBias() ? Set.of("W", "b") : Set.of("W"), d.hasBias() ? Set.of("W", "b") : Set.of("W"));
            long nIn = d.getNIn();
            long nOut = d.getNOut();
            long features = ctx.inputType(name).arrayElementsPerExample();
            if (features != nIn) {
                throw new ExportException("DenseLayer '" + name + "' has nIn " + nIn + ", but its input " + ctx.inputType(name)
                        + " has " + features + " values per example: the input height/width (metadata "
                        + Key.INPUT_HEIGHT + "/width, default " + Dl4jToOnnx.DEFAULT_HEIGHT + "x" + Dl4jToOnnx.DEFAULT_WIDTH
                        + ") do not fit this network");
            }
            OnnxValue w = ctx.onnx().floatInitializer(name + "_W", ctx.param(name, "W", nIn, nOut), nIn, nOut);
            List<OnnxValue> inputs = d.hasBias()
                    ? List.of(in.get(0), w, ctx.onnx().floatInitializer(name + "_b", ctx.param(name, "b", nOut), nOut))
                    : List.of(in.get(0), w);
            return ctx.finalNode(OnnxOp.GEMM, name, inputs,
                    Map.of("alpha", 1.0f, "beta", 1.0f, "transA", 0L, "transB", 0L));
        }
    }

    /**
     * {@link BatchNormalization} (inference form) → BatchNormalization with the global mean and variance. With
     * {@code useLogStd} DL4J stores {@code log10(std)}, and the variance is {@code 10^(2·log10std)}; with
     * {@code lockGammaBeta} gamma and beta are the configured constants.
     */
    static final class BatchNorm implements VertexMapper {
        @Override public String description() { return "BatchNormalization(NCHW or 2-D, inference) -> BatchNormalization"; }

        @Override public boolean supports(GraphVertex v) { return layerOf(v) instanceof BatchNormalization; }

        @Override
        public OnnxValue map(MappingContext ctx, String name, GraphVertex v, List<OnnxValue> in) {
            BatchNormalization bn = (BatchNormalization) layerOf(v);
            // No activation check: DL4J's BatchNormalization layer never applies its (inherited) activation function.
            InputType t = ctx.activationType(name);
            if (t instanceof InputType.InputTypeConvolutional && bn.getCnn2DFormat() != CNN2DFormat.NCHW) {
                throw new ExportException("BatchNormalization '" + name + "' uses " + bn.getCnn2DFormat() + "; only NCHW is supported");
            }
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
            List<OnnxValue> inputs = List.of(in.get(0),
                    ctx.onnx().floatInitializer(name + "_scale", gamma, c),
                    ctx.onnx().floatInitializer(name + "_B", beta, c),
                    ctx.onnx().floatInitializer(name + "_mean", mean, c),
                    ctx.onnx().floatInitializer(name + "_var", var, c));
            return ctx.finalNode(OnnxOp.BATCH_NORMALIZATION, name, inputs, Map.of("epsilon", (float) bn.getEps()));
        }
    }
}
