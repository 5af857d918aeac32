package io.spherekit.trainer.keras;

import com.fasterxml.jackson.databind.JsonNode;
import io.spherekit.trainer.keras.KerasImporter.BuildContext;
import io.spherekit.trainer.keras.KerasImporter.KLayer;
import io.spherekit.trainer.keras.KerasImporter.Planner;
import io.spherekit.trainer.keras.KerasImporter.Shape;
import io.spherekit.trainer.keras.KerasImporter.Step;
import io.spherekit.trainer.keras.KerasImporter.Tensor;
import io.spherekit.trainer.model.ChannelPReLU;
import io.spherekit.trainer.model.SphereConv2D;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.spherekit.trainer.keras.KerasImporter.checkChannelsLast;
import static io.spherekit.trainer.keras.KerasImporter.checkLinear;
import static io.spherekit.trainer.keras.KerasImporter.dim;
import static io.spherekit.trainer.keras.KerasImporter.pair;
import static io.spherekit.trainer.keras.KerasImporter.single;

/**
 * The Keras layer mappers of {@link KerasImporter}, one small class per supported Keras layer class, and the DL4J
 * steps they plan (as the exporter's {@code Mappers} do per DL4J layer).
 */
final class KerasMappers {
    private KerasMappers() {
    }

    /** Every mapper by Keras class name, in the order of {@link KerasImporter#SUPPORTED_LAYERS}. */
    static Map<String, KerasLayerMapper> byClassName() {
        Map<String, KerasLayerMapper> m = new LinkedHashMap<>();
        for (KerasLayerMapper k : List.of(new InputLayerMapper(), new ZeroPadding2DMapper(), new Conv2DMapper(),
                new PReLUMapper(), new AddMapper(), new FlattenMapper(), new DenseMapper())) {
            m.put(k.kerasClass(), k);
        }
        return m;
    }

    /** {@code InputLayer [None, H, W, C]} or {@code [None, N]} → a graph input of the same name. */
    static final class InputLayerMapper implements KerasLayerMapper {
        @Override public String kerasClass() { return "InputLayer"; }

        @Override
        public void plan(KLayer l, List<Tensor> in, Planner planner) {
            JsonNode c = l.config();
            JsonNode bs = c.has("batch_shape") ? c.path("batch_shape") : c.path("batch_input_shape");
            if (bs.size() == 4) {
                Shape s = Shape.spatial(dim(l, bs, 1), dim(l, bs, 2), dim(l, bs, 3));
                planner.input(l, InputType.convolutional(s.h(), s.w(), s.c()), s);
            } else if (bs.size() == 2) {
                Shape s = Shape.flat(dim(l, bs, 1));
                planner.input(l, InputType.feedForward(s.n()), s);
            } else {
                throw new KerasImportException(l.describe() + ": input shape " + bs + " is not "
                        + "[None, H, W, C] or [None, N]");
            }
        }
    }

    /** Symmetric {@code ZeroPadding2D} → a pending pad, folded into the next Conv2D. */
    static final class ZeroPadding2DMapper implements KerasLayerMapper {
        @Override public String kerasClass() { return "ZeroPadding2D"; }

        @Override
        public void plan(KLayer l, List<Tensor> in, Planner planner) {
            checkChannelsLast(l);
            Tensor t = single(l, in, true);
            if (t.pendingPad() != null) {
                throw new KerasImportException(l.describe() + " follows another ZeroPadding2D; merge them");
            }
            JsonNode p = l.config().path("padding");
            int top = p.path(0).path(0).asInt(), bottom = p.path(0).path(1).asInt();
            int left = p.path(1).path(0).asInt(), right = p.path(1).path(1).asInt();
            if (top != bottom || left != right) {
                throw new KerasImportException(l.describe() + ": asymmetric padding " + p + " is not "
                        + "supported (SphereConv2D pads symmetrically)");
            }
            Shape s = Shape.spatial(t.shape().h() + 2L * top, t.shape().w() + 2L * left, t.shape().c());
            planner.define(l, new Tensor(t.vertex(), s, new int[]{top, left}, null, l));
        }
    }

    /** {@code Conv2D} (linear, groups 1; 'valid', or 'same' where Keras pads symmetrically) → {@link SphereConv2D}. */
    static final class Conv2DMapper implements KerasLayerMapper {
        @Override public String kerasClass() { return "Conv2D"; }

        @Override public boolean foldsPadding() { return true; }

        @Override
        public void plan(KLayer l, List<Tensor> in, Planner planner) {
            JsonNode c = l.config();
            checkChannelsLast(l);
            checkLinear(l);
            Tensor t = single(l, in, true);
            if (c.path("groups").asInt(1) != 1) {
                throw new KerasImportException(l.describe() + ": grouped convolution is not supported");
            }
            int[] k = pair(l, c.path("kernel_size"));
            int[] s = pair(l, c.path("strides"));
            int[] d = c.has("dilation_rate") ? pair(l, c.path("dilation_rate")) : new int[]{1, 1};
            int[] pad = t.pendingPad() == null ? new int[]{0, 0} : t.pendingPad().clone();
            long[] size = {t.shape().h(), t.shape().w()}; // already includes a pending pad
            String mode = c.path("padding").asText("valid");
            if ("same".equals(mode)) {
                for (int a = 0; a < 2; a++) {
                    long keff = (long) d[a] * (k[a] - 1) + 1;
                    long out = (size[a] + s[a] - 1) / s[a];
                    long total = Math.max((out - 1) * s[a] + keff - size[a], 0);
                    if (total % 2 != 0) {
                        throw new KerasImportException(l.describe() + ": padding='same' with stride "
                                + s[a] + " and kernel " + k[a] + " on an input of size " + size[a]
                                + " makes Keras pad " + (total / 2) + " before and " + (total - total / 2)
                                + " after, which SphereConv2D (symmetric padding, like Caffe) cannot "
                                + "express. Build the model with ZeroPadding2D(p) + Conv2D(padding='valid') "
                                + "instead");
                    }
                    pad[a] += (int) (total / 2);
                    size[a] += total;
                }
            } else if (!"valid".equals(mode)) {
                throw new KerasImportException(l.describe() + ": padding '" + mode + "' is not supported");
            }
            long outCh = c.path("filters").asLong();
            long[] out = new long[2];
            for (int a = 0; a < 2; a++) {
                long keff = (long) d[a] * (k[a] - 1) + 1;
                out[a] = (size[a] - keff) / s[a] + 1; // size includes all padding by now
                if (out[a] < 1) {
                    throw new KerasImportException(l.describe() + ": input too small for the kernel");
                }
            }
            planner.add(new ConvStep(l, t.vertex(), k, s, d, pad, t.shape().c(), outCh,
                    c.path("use_bias").asBoolean(true)), Shape.spatial(out[0], out[1], outCh));
        }
    }

    /** {@code PReLU(shared_axes=[1, 2])} on NHWC maps → {@link ChannelPReLU}. */
    static final class PReLUMapper implements KerasLayerMapper {
        @Override public String kerasClass() { return "PReLU"; }

        @Override
        public void plan(KLayer l, List<Tensor> in, Planner planner) {
            Tensor t = single(l, in, false);
            List<Integer> shared = new ArrayList<>();
            l.config().path("shared_axes").forEach(v -> shared.add(v.asInt()));
            if (!t.shape().isSpatial() || !shared.equals(List.of(1, 2))) {
                throw new KerasImportException(l.describe() + ": only per-channel PReLU on NHWC maps "
                        + "(shared_axes=[1, 2]) is supported; got shared_axes " + shared + " on input "
                        + t.shape());
            }
            planner.add(new PReluStep(l, t.vertex(), t.shape().c()), t.shape());
        }
    }

    /** {@code Add} of equal shapes → {@code ElementWiseVertex(Add)}. */
    static final class AddMapper implements KerasLayerMapper {
        @Override public String kerasClass() { return "Add"; }

        @Override
        public void plan(KLayer l, List<Tensor> in, Planner planner) {
            if (in.size() < 2) {
                throw new KerasImportException(l.describe() + " needs at least 2 inputs, has " + in.size());
            }
            List<String> srcs = new ArrayList<>();
            for (Tensor t : in) {
                if (!t.shape().equals(in.get(0).shape())) {
                    throw new KerasImportException(l.describe() + ": inputs of different shapes "
                            + in.get(0).shape() + " and " + t.shape() + " (broadcasting is not supported)");
                }
                srcs.add(t.vertex());
            }
            planner.add(new AddStep(l, srcs), in.get(0).shape());
        }
    }

    /** {@code Flatten} (channels_last) → folded into the next Dense; the identity on vectors. */
    static final class FlattenMapper implements KerasLayerMapper {
        @Override public String kerasClass() { return "Flatten"; }

        @Override
        public void plan(KLayer l, List<Tensor> in, Planner planner) {
            String df = l.config().path("data_format").asText("channels_last");
            if (!"channels_last".equals(df) && !"null".equals(df)) {
                throw new KerasImportException(l.describe() + ": data_format " + df + " is not supported");
            }
            Tensor t = single(l, in, false);
            if (t.shape().isSpatial()) {
                Shape s = t.shape();
                planner.define(l, new Tensor(t.vertex(), Shape.flat(s.h() * s.w() * s.c()), null, s, l));
            } else {
                planner.define(l, new Tensor(t.vertex(), t.shape(), null, null, l)); // identity
            }
        }
    }

    /** {@code Dense} (linear, not quantized) on a vector or a Flatten → {@link DenseLayer}. */
    static final class DenseMapper implements KerasLayerMapper {
        @Override public String kerasClass() { return "Dense"; }

        @Override public boolean foldsFlatten() { return true; }

        @Override
        public void plan(KLayer l, List<Tensor> in, Planner planner) {
            JsonNode c = l.config();
            checkLinear(l);
            Tensor t = single(l, in, false);
            if (t.shape().isSpatial()) {
                throw new KerasImportException(l.describe() + ": a Dense applied to a " + t.shape()
                        + " map (over its last axis) is not supported; put a Flatten before it");
            }
            if (!c.path("quantization_config").isMissingNode() && !c.path("quantization_config").isNull()) {
                throw new KerasImportException(l.describe() + ": quantized Dense layers are not supported");
            }
            long units = c.path("units").asLong();
            planner.add(new DenseStep(l, t.vertex(), t.shape().n(), units, c.path("use_bias").asBoolean(true),
                    t.flattenedFrom()), Shape.flat(units));
        }
    }

    /** A {@link SphereConv2D}; kernel HWIO {@code [kH,kW,I,O]} → OIHW {@code [O,I,kH,kW]}. */
    record ConvStep(KLayer layer, String input, int[] kernel, int[] stride, int[] dilation, int[] pad, long nIn,
                    long nOut, boolean bias) implements Step {
        @Override
        public void build(BuildContext b) {
            SphereConv2D conv = new SphereConv2D(nIn, nOut, kernel, stride, pad, SphereConv2D.Init.XAVIER)
                    .withBias(bias, false);
            if (dilation[0] != 1 || dilation[1] != 1) {
                conv.withDilation(dilation[0], dilation[1]);
            }
            b.graph.addLayer(layer.name(), conv, input);
            Map<String, INDArray> p = new LinkedHashMap<>();
            INDArray k = b.read(layer, 0, kernel[0], kernel[1], nIn, nOut); // HWIO
            p.put(SphereConv2D.WEIGHT, k.permute(3, 2, 0, 1).dup('c')); // OIHW
            if (bias) {
                p.put(SphereConv2D.BIAS, b.read(layer, 1, nOut));
            }
            b.params.put(layer.name(), p);
        }
    }

    /** A {@link ChannelPReLU}; alpha {@code [1,1,C]} → {@code [1,C,1,1]}. */
    record PReluStep(KLayer layer, String input, long channels) implements Step {
        @Override
        public void build(BuildContext b) {
            b.graph.addLayer(layer.name(), new ChannelPReLU(channels), input);
            b.params.put(layer.name(), Map.of(ChannelPReLU.ALPHA,
                    b.read(layer, 0, 1, 1, channels).reshape('c', 1, channels, 1, 1)));
        }
    }

    /** An {@code ElementWiseVertex(Add)}. */
    record AddStep(KLayer layer, List<String> inputs) implements Step {
        @Override
        public void build(BuildContext b) {
            b.graph.addVertex(layer.name(), new ElementWiseVertex(ElementWiseVertex.Op.Add),
                    inputs.toArray(new String[0]));
        }
    }

    /**
     * A {@link DenseLayer}, kernel {@code [nIn, nOut]}; after a Flatten of an {@code [H, W, C]} map
     * ({@code flattenedFrom}) its rows are permuted from Keras' {@code (h, w, c)} order to DL4J's {@code (c, h, w)}.
     */
    record DenseStep(KLayer layer, String input, long nIn, long nOut, boolean bias, Shape flattenedFrom)
            implements Step {
        @Override
        public void build(BuildContext b) {
            b.graph.addLayer(layer.name(), new DenseLayer.Builder().nIn(nIn).nOut(nOut).hasBias(bias)
                    .activation(Activation.IDENTITY).build(), input);
            INDArray k = b.read(layer, 0, nIn, nOut);
            if (flattenedFrom != null && !b.wrongFlattenOrder) {
                long h = flattenedFrom.h(), w = flattenedFrom.w(), c = flattenedFrom.c();
                // Keras row index (h·W + w)·C + c  →  DL4J row index (c·H + h)·W + w
                k = k.reshape('c', h, w, c, nOut).permute(2, 0, 1, 3).dup('c').reshape('c', nIn, nOut);
            }
            Map<String, INDArray> p = new LinkedHashMap<>();
            p.put("W", k);
            if (bias) {
                p.put("b", b.read(layer, 1, nOut).reshape('c', 1, nOut));
            }
            b.params.put(layer.name(), p);
        }
    }
}
