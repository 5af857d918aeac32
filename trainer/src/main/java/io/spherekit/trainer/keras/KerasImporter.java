package io.spherekit.trainer.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Node;
import io.spherekit.trainer.model.ChannelPReLU;
import io.spherekit.trainer.model.SphereConv2D;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Imports a native Keras 3 model file ({@code .keras}: a zip of {@code config.json} and {@code model.weights.h5})
 * holding a SphereFace-style backbone into a DL4J {@link ComputationGraph} built from the same layers as
 * {@link io.spherekit.trainer.model.SphereFaceNet}: {@link SphereConv2D}, {@link ChannelPReLU}, an
 * {@link ElementWiseVertex} {@code Add} per residual sum, and a {@link DenseLayer}.
 *
 * <p>Supported Keras layers ({@link #SUPPORTED_LAYERS}), in a functional model, channels_last (NHWC):
 * <ul>
 *   <li>{@code InputLayer} {@code [None, H, W, C]} (or {@code [None, N]}) → a graph input of the same name,
 *       {@code InputType.convolutional(H, W, C)} (NCHW);</li>
 *   <li>{@code Conv2D} (linear activation, groups 1) → {@link SphereConv2D}; kernel HWIO {@code [kH,kW,I,O]} →
 *       OIHW {@code [O,I,kH,kW]}. {@code padding='same'} is mapped to a symmetric pad only when Keras would pad
 *       symmetrically for the actual input size (always for stride 1 and odd kernels). Keras pads
 *       {@code 'same'} stride-2 convs on even sizes 0 before / 1 after, which is not Caffe's pad 1: such a conv is
 *       rejected, with a pointer to the {@code ZeroPadding2D(p)} + {@code Conv2D(padding='valid')} pattern;</li>
 *   <li>{@code ZeroPadding2D} (symmetric) directly before a {@code Conv2D} → folded into that conv's padding;</li>
 *   <li>{@code PReLU(shared_axes=[1, 2])} → {@link ChannelPReLU}; alpha {@code [1,1,C]} → {@code [1,C,1,1]};</li>
 *   <li>{@code Add} → {@code ElementWiseVertex(Add)};</li>
 *   <li>{@code Flatten} directly before a {@code Dense} → DL4J's CNN→dense preprocessor. Keras flattens NHWC
 *       maps in {@code [H, W, C]} order and DL4J flattens NCHW maps in {@code [C, H, W]} order, so the rows of
 *       that Dense kernel are permuted from {@code (h, w, c)} to {@code (c, h, w)};</li>
 *   <li>{@code Dense} (linear activation) → {@link DenseLayer}, kernel {@code [nIn, nOut]} as is.</li>
 * </ul>
 * Anything else fails with a {@link KerasImportException} naming the layer, its class and this list.
 *
 * <p>The graph's layer and vertex names are the Keras layer names (the folded {@code ZeroPadding2D} and
 * {@code Flatten} layers have no vertex of their own); its output is the Keras model's output layer, for example
 * {@code fc5}, the embedding. It has no loss layer, so it is for inference ({@code output}/{@code feedForward});
 * to train, add a head (e.g. {@link io.spherekit.trainer.head.ASoftmaxHead}) and copy the parameters over. All
 * conv biases are imported as trainable.
 *
 * <p>Keras 3 stores layer weights in {@code model.weights.h5} under {@code layers/<snake_case class name>[_<n>]/vars/<i>},
 * where {@code n} counts earlier layers of the same class in the config's layer list; the layer's own name does
 * not appear there. This importer derives the same paths.
 */
public final class KerasImporter {

    /** The Keras layer classes this importer maps. */
    public static final List<String> SUPPORTED_LAYERS =
            List.of("InputLayer", "ZeroPadding2D", "Conv2D", "PReLU", "Add", "Flatten", "Dense");

    private static final ObjectMapper JSON = new ObjectMapper();

    private KerasImporter() {
    }

    /** Loads {@code modelDotKeras} into a float32 graph. */
    public static ComputationGraph load(Path modelDotKeras) {
        return load(modelDotKeras, DataType.FLOAT);
    }

    /** Loads {@code modelDotKeras} into a graph of the given data type (FLOAT or DOUBLE). */
    public static ComputationGraph load(Path modelDotKeras, DataType dataType) {
        return load(modelDotKeras, dataType, false);
    }

    /**
     * @param wrongFlattenOrder for the negative test only: keep the Keras {@code [H, W, C]} row order of a Dense
     *                          kernel after Flatten instead of permuting it to DL4J's {@code [C, H, W]} order
     */
    static ComputationGraph load(Path modelDotKeras, DataType dataType, boolean wrongFlattenOrder) {
        if (dataType != DataType.FLOAT && dataType != DataType.DOUBLE) {
            throw new IllegalArgumentException("dataType must be FLOAT or DOUBLE, got " + dataType);
        }
        try (ZipFile zip = new ZipFile(modelDotKeras.toFile())) {
            JsonNode config;
            try (InputStream in = entry(zip, modelDotKeras, "config.json")) {
                config = JSON.readTree(in);
            }
            Plan plan = plan(config, dataType);
            try (InputStream in = entry(zip, modelDotKeras, "model.weights.h5");
                 HdfFile h5 = HdfFile.fromInputStream(in)) {
                return build(plan, h5, dataType, wrongFlattenOrder);
            }
        } catch (IOException e) {
            throw new KerasImportException("cannot read Keras model " + modelDotKeras + ": " + e.getMessage(), e);
        }
    }

    private static InputStream entry(ZipFile zip, Path file, String name) throws IOException {
        ZipEntry e = zip.getEntry(name);
        if (e == null) {
            throw new KerasImportException(file + " is not a Keras 3 .keras file: it has no " + name);
        }
        return zip.getInputStream(e);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Keras config → plan

    /** A Keras tensor's shape, without the batch dimension: NHWC maps {@code [h, w, c]} or vectors {@code [n]}. */
    record Shape(long h, long w, long c, long n) {
        static Shape spatial(long h, long w, long c) {
            return new Shape(h, w, c, -1);
        }

        static Shape flat(long n) {
            return new Shape(-1, -1, -1, n);
        }

        boolean isSpatial() {
            return n < 0;
        }

        @Override
        public String toString() {
            return isSpatial() ? "[" + h + ", " + w + ", " + c + "] (HWC)" : "[" + n + "]";
        }
    }

    /**
     * What a Keras tensor is on the DL4J side: the vertex that produces it, its Keras shape, plus a pending
     * zero-padding (from ZeroPadding2D) or the spatial shape it was flattened from (from Flatten).
     */
    record Tensor(String vertex, Shape shape, int[] pendingPad, Shape flattenedFrom, KLayer producer) {
    }

    /** One layer of config.json. */
    record KLayer(String name, String className, JsonNode config, List<String> inbound, String weightsPath) {
        String describe() {
            return "Keras layer '" + name + "' (class " + className + ")";
        }
    }

    /** One step of the DL4J graph to build, with the weight reads it needs. */
    private record Step(KLayer layer, Kind kind, List<String> inputs, long[] dims, int[] pad) {
    }

    private enum Kind { CONV, PRELU, ADD, DENSE }

    record Plan(List<String> inputNames, List<InputType> inputTypes, List<Step> steps, String output,
                Map<String, Tensor> tensors) {
    }

    private static Plan plan(JsonNode root, DataType dataType) {
        String modelClass = root.path("class_name").asText();
        if (!"Functional".equals(modelClass) && !"Model".equals(modelClass)) {
            throw new KerasImportException("only Keras functional models are supported (keras.Model(inputs, "
                    + "outputs)); this file holds a '" + modelClass + "'");
        }
        JsonNode cfg = root.path("config");
        List<KLayer> layers = new ArrayList<>();
        Map<String, Integer> classCount = new HashMap<>();
        for (JsonNode l : cfg.path("layers")) {
            String cls = l.path("class_name").asText();
            String name = l.path("name").asText(l.path("config").path("name").asText());
            String snake = snakeCase(cls);
            int n = classCount.merge(snake, 1, Integer::sum) - 1;
            String path = "layers/" + snake + (n == 0 ? "" : "_" + n);
            JsonNode nodes = l.path("inbound_nodes");
            if (nodes.size() > 1) {
                throw new KerasImportException("Keras layer '" + name + "' (class " + cls + ") is called "
                        + nodes.size() + " times (a shared layer); shared layers are not supported");
            }
            List<String> inbound = new ArrayList<>();
            if (nodes.size() == 1) {
                collectHistory(nodes.get(0).path("args"), inbound);
                collectHistory(nodes.get(0).path("kwargs"), inbound);
            }
            layers.add(new KLayer(name, cls, l.path("config"), inbound, path));
        }
        for (KLayer l : layers) {
            if (!SUPPORTED_LAYERS.contains(l.className())) {
                throw new KerasImportException(l.describe() + " is not supported by KerasImporter; supported "
                        + "layers: " + String.join(", ", SUPPORTED_LAYERS));
            }
        }

        Map<String, Tensor> tensors = new LinkedHashMap<>();
        List<String> inputNames = new ArrayList<>();
        List<InputType> inputTypes = new ArrayList<>();
        List<Step> steps = new ArrayList<>();
        for (KLayer l : layers) {
            List<Tensor> in = new ArrayList<>();
            for (String src : l.inbound()) {
                Tensor t = tensors.get(src);
                if (t == null) {
                    throw new KerasImportException(l.describe() + " reads '" + src + "', which is not defined "
                            + "before it in config.json");
                }
                if (t.pendingPad() != null && !"Conv2D".equals(l.className())) {
                    throw new KerasImportException(l.describe() + " reads the output of ZeroPadding2D '" + src
                            + "'; ZeroPadding2D is only supported directly before a Conv2D (it becomes that "
                            + "conv's padding)");
                }
                if (t.flattenedFrom() != null && !"Dense".equals(l.className())) {
                    throw new KerasImportException(l.describe() + " reads the output of Flatten '" + src
                            + "'; Flatten is only supported directly before a Dense layer");
                }
                in.add(t);
            }
            JsonNode c = l.config();
            switch (l.className()) {
                case "InputLayer" -> {
                    JsonNode bs = c.has("batch_shape") ? c.path("batch_shape") : c.path("batch_input_shape");
                    Shape s;
                    if (bs.size() == 4) {
                        s = Shape.spatial(dim(l, bs, 1), dim(l, bs, 2), dim(l, bs, 3));
                        inputTypes.add(InputType.convolutional(s.h(), s.w(), s.c()));
                    } else if (bs.size() == 2) {
                        s = Shape.flat(dim(l, bs, 1));
                        inputTypes.add(InputType.feedForward(s.n()));
                    } else {
                        throw new KerasImportException(l.describe() + ": input shape " + bs + " is not "
                                + "[None, H, W, C] or [None, N]");
                    }
                    inputNames.add(l.name());
                    tensors.put(l.name(), new Tensor(l.name(), s, null, null, l));
                }
                case "ZeroPadding2D" -> {
                    checkChannelsLast(l);
                    Tensor t = single(l, in, true);
                    if (t.pendingPad() != null) {
                        throw new KerasImportException(l.describe() + " follows another ZeroPadding2D; merge them");
                    }
                    JsonNode p = c.path("padding");
                    int top = p.path(0).path(0).asInt(), bottom = p.path(0).path(1).asInt();
                    int left = p.path(1).path(0).asInt(), right = p.path(1).path(1).asInt();
                    if (top != bottom || left != right) {
                        throw new KerasImportException(l.describe() + ": asymmetric padding " + p + " is not "
                                + "supported (SphereConv2D pads symmetrically)");
                    }
                    Shape s = Shape.spatial(t.shape().h() + 2L * top, t.shape().w() + 2L * left, t.shape().c());
                    tensors.put(l.name(), new Tensor(t.vertex(), s, new int[]{top, left}, null, l));
                }
                case "Conv2D" -> {
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
                    long inCh = t.shape().c();
                    long outCh = c.path("filters").asLong();
                    long[] out = new long[2];
                    for (int a = 0; a < 2; a++) {
                        long keff = (long) d[a] * (k[a] - 1) + 1;
                        out[a] = (size[a] - keff) / s[a] + 1; // size includes all padding by now
                        if (out[a] < 1) {
                            throw new KerasImportException(l.describe() + ": input too small for the kernel");
                        }
                    }
                    steps.add(new Step(l, Kind.CONV, List.of(t.vertex()),
                            new long[]{k[0], k[1], inCh, outCh, s[0], s[1], d[0], d[1],
                                    c.path("use_bias").asBoolean(true) ? 1 : 0}, pad));
                    tensors.put(l.name(), new Tensor(l.name(), Shape.spatial(out[0], out[1], outCh), null, null, l));
                }
                case "PReLU" -> {
                    Tensor t = single(l, in, false);
                    List<Integer> shared = new ArrayList<>();
                    c.path("shared_axes").forEach(v -> shared.add(v.asInt()));
                    if (!t.shape().isSpatial() || !shared.equals(List.of(1, 2))) {
                        throw new KerasImportException(l.describe() + ": only per-channel PReLU on NHWC maps "
                                + "(shared_axes=[1, 2]) is supported; got shared_axes " + shared + " on input "
                                + t.shape());
                    }
                    steps.add(new Step(l, Kind.PRELU, List.of(t.vertex()), new long[]{t.shape().c()}, null));
                    tensors.put(l.name(), new Tensor(l.name(), t.shape(), null, null, l));
                }
                case "Add" -> {
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
                    steps.add(new Step(l, Kind.ADD, srcs, null, null));
                    tensors.put(l.name(), new Tensor(l.name(), in.get(0).shape(), null, null, l));
                }
                case "Flatten" -> {
                    String df = c.path("data_format").asText("channels_last");
                    if (!"channels_last".equals(df) && !"null".equals(df)) {
                        throw new KerasImportException(l.describe() + ": data_format " + df + " is not supported");
                    }
                    Tensor t = single(l, in, false);
                    if (t.shape().isSpatial()) {
                        Shape s = t.shape();
                        tensors.put(l.name(), new Tensor(t.vertex(), Shape.flat(s.h() * s.w() * s.c()), null, s, l));
                    } else {
                        tensors.put(l.name(), new Tensor(t.vertex(), t.shape(), null, null, l)); // identity
                    }
                }
                case "Dense" -> {
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
                    Shape from = t.flattenedFrom();
                    steps.add(new Step(l, Kind.DENSE, List.of(t.vertex()),
                            from == null ? new long[]{t.shape().n(), units, c.path("use_bias").asBoolean(true) ? 1 : 0}
                                    : new long[]{t.shape().n(), units, c.path("use_bias").asBoolean(true) ? 1 : 0,
                                    from.h(), from.w(), from.c()}, null));
                    tensors.put(l.name(), new Tensor(l.name(), Shape.flat(units), null, null, l));
                }
                default -> throw new IllegalStateException(l.className());
            }
        }
        JsonNode outs = cfg.path("output_layers");
        if (outs.size() > 0 && outs.get(0).isTextual()) { // a single output is stored unwrapped: [name, 0, 0]
            outs = JSON.createArrayNode().add(outs);
        }
        if (outs.size() != 1) {
            throw new KerasImportException("only single-output models are supported; output_layers = " + outs);
        }
        String out = outs.get(0).path(0).asText();
        Tensor t = tensors.get(out);
        if (t == null || t.pendingPad() != null || t.flattenedFrom() != null || !t.vertex().equals(out)) {
            throw new KerasImportException("the model output '" + out + "' must be a Conv2D, PReLU, Add or Dense "
                    + "layer of the model");
        }
        return new Plan(inputNames, inputTypes, steps, out, tensors);
    }

    private static long dim(KLayer l, JsonNode shape, int i) {
        JsonNode v = shape.path(i);
        if (!v.isIntegralNumber() || v.asLong() < 1) {
            throw new KerasImportException(l.describe() + ": input shape " + shape + " must be fully known "
                    + "(except the batch dimension)");
        }
        return v.asLong();
    }

    private static Tensor single(KLayer l, List<Tensor> in, boolean spatial) {
        if (in.size() != 1) {
            throw new KerasImportException(l.describe() + " must have exactly one input, has " + in.size());
        }
        if (spatial && !in.get(0).shape().isSpatial()) {
            throw new KerasImportException(l.describe() + " needs an NHWC input, got " + in.get(0).shape());
        }
        return in.get(0);
    }

    private static int[] pair(KLayer l, JsonNode v) {
        if (v.isIntegralNumber()) {
            return new int[]{v.asInt(), v.asInt()};
        }
        if (v.size() != 2) {
            throw new KerasImportException(l.describe() + ": expected two integers, got " + v);
        }
        return new int[]{v.get(0).asInt(), v.get(1).asInt()};
    }

    private static void checkChannelsLast(KLayer l) {
        JsonNode df = l.config().path("data_format");
        if (!df.isMissingNode() && !df.isNull() && !"channels_last".equals(df.asText())) {
            throw new KerasImportException(l.describe() + ": data_format " + df.asText() + " is not supported "
                    + "(channels_last only)");
        }
    }

    private static void checkLinear(KLayer l) {
        JsonNode a = l.config().path("activation");
        String name = a.isTextual() ? a.asText() : a.path("config").path("name").asText(a.toString());
        if (!a.isMissingNode() && !a.isNull() && !"linear".equals(name)) {
            throw new KerasImportException(l.describe() + ": fused activation '" + name + "' is not supported; "
                    + "use activation=None and a separate PReLU layer");
        }
    }

    private static void collectHistory(JsonNode n, List<String> out) {
        if (n.isArray()) {
            n.forEach(c -> collectHistory(c, out));
        } else if (n.isObject()) {
            if ("__keras_tensor__".equals(n.path("class_name").asText())) {
                JsonNode h = n.path("config").path("keras_history");
                if (h.path(1).asInt() != 0 || h.path(2).asInt() != 0) {
                    throw new KerasImportException("tensor " + h + ": only the first output of a layer's first "
                            + "call is supported");
                }
                out.add(h.path(0).asText());
            } else {
                n.forEach(c -> collectHistory(c, out));
            }
        }
    }

    /** Keras' {@code naming.to_snake_case}: {@code Conv2D → conv2d}, {@code PReLU → p_re_lu}. */
    static String snakeCase(String cls) {
        String s = cls.replaceAll("(.)([A-Z][a-z]+)", "$1_$2");
        s = s.replaceAll("([a-z])([A-Z])", "$1_$2");
        return s.toLowerCase(java.util.Locale.ROOT);
    }

    // ---------------------------------------------------------------------------------------------------------
    // plan → DL4J graph

    private static ComputationGraph build(Plan plan, HdfFile h5, DataType dt, boolean wrongFlattenOrder) {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder()
                .dataType(dt)
                .trainingWorkspaceMode(WorkspaceMode.ENABLED)
                .inferenceWorkspaceMode(WorkspaceMode.ENABLED)
                .graphBuilder()
                .allowNoOutput(false)
                .validateOutputLayerConfig(false);
        g.addInputs(plan.inputNames().toArray(new String[0]));
        g.setInputTypes(plan.inputTypes().toArray(new InputType[0]));
        Map<String, Map<String, INDArray>> params = new LinkedHashMap<>();
        for (Step st : plan.steps()) {
            KLayer l = st.layer();
            String[] in = st.inputs().toArray(new String[0]);
            long[] d = st.dims();
            switch (st.kind()) {
                case CONV -> {
                    int kH = (int) d[0], kW = (int) d[1];
                    long nIn = d[2], nOut = d[3];
                    boolean bias = d[8] == 1;
                    SphereConv2D conv = new SphereConv2D(nIn, nOut, new int[]{kH, kW}, new int[]{(int) d[4], (int) d[5]},
                            st.pad(), SphereConv2D.Init.XAVIER).withBias(bias, false);
                    if (d[6] != 1 || d[7] != 1) {
                        conv.withDilation((int) d[6], (int) d[7]);
                    }
                    g.addLayer(l.name(), conv, in);
                    Map<String, INDArray> p = new LinkedHashMap<>();
                    INDArray k = readVar(h5, l, 0, kH, kW, nIn, nOut); // HWIO
                    p.put(SphereConv2D.WEIGHT, k.permute(3, 2, 0, 1).dup('c')); // OIHW
                    if (bias) {
                        p.put(SphereConv2D.BIAS, readVar(h5, l, 1, nOut));
                    }
                    params.put(l.name(), p);
                }
                case PRELU -> {
                    long c = d[0];
                    g.addLayer(l.name(), new ChannelPReLU(c), in);
                    params.put(l.name(), Map.of(ChannelPReLU.ALPHA, readVar(h5, l, 0, 1, 1, c).reshape('c', 1, c, 1, 1)));
                }
                case ADD -> g.addVertex(l.name(), new ElementWiseVertex(ElementWiseVertex.Op.Add), in);
                case DENSE -> {
                    long nIn = d[0], nOut = d[1];
                    boolean bias = d[2] == 1;
                    g.addLayer(l.name(), new DenseLayer.Builder().nIn(nIn).nOut(nOut).hasBias(bias)
                            .activation(Activation.IDENTITY).build(), in);
                    INDArray k = readVar(h5, l, 0, nIn, nOut);
                    if (d.length == 6 && !wrongFlattenOrder) {
                        long h = d[3], w = d[4], c = d[5];
                        // Keras row index (h·W + w)·C + c  →  DL4J row index (c·H + h)·W + w
                        k = k.reshape('c', h, w, c, nOut).permute(2, 0, 1, 3).dup('c').reshape('c', nIn, nOut);
                    }
                    Map<String, INDArray> p = new LinkedHashMap<>();
                    p.put("W", k);
                    if (bias) {
                        p.put("b", readVar(h5, l, 1, nOut).reshape('c', 1, nOut));
                    }
                    params.put(l.name(), p);
                }
            }
        }
        g.setOutputs(plan.output());
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        for (Map.Entry<String, Map<String, INDArray>> e : params.entrySet()) {
            org.deeplearning4j.nn.api.Layer layer = net.getLayer(e.getKey());
            for (Map.Entry<String, INDArray> p : e.getValue().entrySet()) {
                INDArray target = layer.getParam(p.getKey());
                INDArray src = p.getValue().castTo(dt);
                if (target.length() != src.length()) {
                    throw new IllegalStateException("parameter " + e.getKey() + "." + p.getKey() + ": DL4J shape "
                            + Arrays.toString(target.shape()) + " vs imported " + Arrays.toString(src.shape()));
                }
                target.assign(src.reshape('c', target.shape()));
            }
        }
        return net;
    }

    private static INDArray readVar(HdfFile h5, KLayer l, int index, long... expected) {
        String path = l.weightsPath() + "/vars/" + index;
        Dataset ds;
        try {
            Node n = h5.getByPath(path);
            if (!(n instanceof Dataset)) {
                throw new KerasImportException(path + " is not a dataset");
            }
            ds = (Dataset) n;
        } catch (RuntimeException e) {
            TreeSet<String> groups = new TreeSet<>();
            try {
                Node layers = h5.getByPath("layers");
                if (layers instanceof io.jhdf.api.Group grp) {
                    groups.addAll(grp.getChildren().keySet());
                }
            } catch (RuntimeException ignored) {
                // listing is best effort
            }
            throw new KerasImportException("weights of " + l.describe() + " not found at " + path
                    + " in model.weights.h5 (groups under layers/: " + groups + ")", e);
        }
        long[] dims = Arrays.stream(ds.getDimensions()).asLongStream().toArray();
        if (!Arrays.equals(dims, expected)) {
            throw new KerasImportException("weights of " + l.describe() + " at " + path + " have shape "
                    + Arrays.toString(dims) + ", expected " + Arrays.toString(expected));
        }
        Object flat = ds.getDataFlat();
        INDArray a;
        if (flat instanceof float[] f) {
            a = Nd4j.create(f, dims, 'c');
        } else if (flat instanceof double[] x) {
            a = Nd4j.create(x, dims, 'c');
        } else {
            throw new KerasImportException("weights of " + l.describe() + " at " + path + " have unsupported "
                    + "type " + ds.getJavaType());
        }
        return a;
    }
}
