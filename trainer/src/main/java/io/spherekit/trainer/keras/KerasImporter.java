package io.spherekit.trainer.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import io.spherekit.trainer.model.ChannelPReLU;
import io.spherekit.trainer.model.SphereConv2D;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
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
import java.util.Locale;
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

    /** One mapper per supported Keras layer class ({@link KerasMappers}), by class name. */
    private static final Map<String, KerasLayerMapper> MAPPERS = KerasMappers.byClassName();

    /** The Keras layer classes this importer maps. */
    public static final List<String> SUPPORTED_LAYERS = List.copyOf(MAPPERS.keySet());

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

    record Plan(List<String> inputNames, List<InputType> inputTypes, List<Step> steps, String output,
                Map<String, Tensor> tensors) {
    }

    private static KerasLayerMapper mapper(KLayer l) {
        return MAPPERS.get(l.className());
    }

    /**
     * The plan under construction, as the mappers see it: the DL4J-side tensor of every Keras layer so far, the
     * graph inputs, and the steps to build.
     */
    static final class Planner {
        final Map<String, Tensor> tensors = new LinkedHashMap<>();
        final List<String> inputNames = new ArrayList<>();
        final List<InputType> inputTypes = new ArrayList<>();
        final List<Step> steps = new ArrayList<>();

        /** A graph input named after {@code l}, of DL4J type {@code type} and Keras shape {@code shape}. */
        void input(KLayer l, InputType type, Shape shape) {
            inputNames.add(l.name());
            inputTypes.add(type);
            define(l, new Tensor(l.name(), shape, null, null, l));
        }

        /** What the Keras layer {@code l}'s output is on the DL4J side. */
        void define(KLayer l, Tensor t) {
            tensors.put(l.name(), t);
        }

        /** A vertex of the DL4J graph; its output is the Keras layer's, of the given shape. */
        void add(Step step, Shape out) {
            steps.add(step);
            define(step.layer(), new Tensor(step.layer().name(), out, null, null, step.layer()));
        }
    }

    /** One vertex of the DL4J graph to build, with the weight reads it needs. */
    interface Step {
        KLayer layer();

        void build(BuildContext b);
    }

    /** The graph being built from a plan, the weights file, and the imported parameter values per layer. */
    static final class BuildContext {
        final ComputationGraphConfiguration.GraphBuilder graph;
        final HdfFile h5;
        final boolean wrongFlattenOrder;
        final Map<String, Map<String, INDArray>> params = new LinkedHashMap<>();

        BuildContext(ComputationGraphConfiguration.GraphBuilder graph, HdfFile h5, boolean wrongFlattenOrder) {
            this.graph = graph;
            this.h5 = h5;
            this.wrongFlattenOrder = wrongFlattenOrder;
        }

        /** Variable {@code index} of {@code l} in model.weights.h5, checked against the expected shape. */
        INDArray read(KLayer l, int index, long... expected) {
            return readVar(h5, l, index, expected);
        }
    }

    private static Plan plan(JsonNode root, DataType dataType) {
        String modelClass = root.path("class_name").asText();
        if (!"Functional".equals(modelClass) && !"Model".equals(modelClass)) {
            throw new KerasImportException("only Keras functional models are supported (keras.Model(inputs, "
                    + "outputs)); this file holds a '" + modelClass + "'");
        }
        JsonNode cfg = root.path("config");
        List<KLayer> layers = layers(cfg);
        Planner planner = new Planner();
        for (KLayer l : layers) {
            mapper(l).plan(l, inputsOf(l, planner.tensors), planner);
        }
        String out = output(cfg, planner.tensors);
        return new Plan(planner.inputNames, planner.inputTypes, planner.steps, out, planner.tensors);
    }

    /** The layers of config.json, with their inbound layer names and weight paths; unsupported classes fail. */
    private static List<KLayer> layers(JsonNode cfg) {
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
            if (!MAPPERS.containsKey(l.className())) {
                throw new KerasImportException(l.describe() + " is not supported by KerasImporter; supported "
                        + "layers: " + String.join(", ", SUPPORTED_LAYERS));
            }
        }
        return layers;
    }

    /** The tensors {@code l} reads; a pending pad or flatten only feeds a mapper that folds it. */
    private static List<Tensor> inputsOf(KLayer l, Map<String, Tensor> tensors) {
        List<Tensor> in = new ArrayList<>();
        for (String src : l.inbound()) {
            Tensor t = tensors.get(src);
            if (t == null) {
                throw new KerasImportException(l.describe() + " reads '" + src + "', which is not defined "
                        + "before it in config.json");
            }
            if (t.pendingPad() != null && !mapper(l).foldsPadding()) {
                throw new KerasImportException(l.describe() + " reads the output of ZeroPadding2D '" + src
                        + "'; ZeroPadding2D is only supported directly before a Conv2D (it becomes that "
                        + "conv's padding)");
            }
            if (t.flattenedFrom() != null && !mapper(l).foldsFlatten()) {
                throw new KerasImportException(l.describe() + " reads the output of Flatten '" + src
                        + "'; Flatten is only supported directly before a Dense layer");
            }
            in.add(t);
        }
        return in;
    }

    /** The model's single output layer, which must be a vertex of its own. */
    private static String output(JsonNode cfg, Map<String, Tensor> tensors) {
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
        return out;
    }

    static long dim(KLayer l, JsonNode shape, int i) {
        JsonNode v = shape.path(i);
        if (!v.isIntegralNumber() || v.asLong() < 1) {
            throw new KerasImportException(l.describe() + ": input shape " + shape + " must be fully known "
                    + "(except the batch dimension)");
        }
        return v.asLong();
    }

    static Tensor single(KLayer l, List<Tensor> in, boolean spatial) {
        if (in.size() != 1) {
            throw new KerasImportException(l.describe() + " must have exactly one input, has " + in.size());
        }
        if (spatial && !in.get(0).shape().isSpatial()) {
            throw new KerasImportException(l.describe() + " needs an NHWC input, got " + in.get(0).shape());
        }
        return in.get(0);
    }

    static int[] pair(KLayer l, JsonNode v) {
        if (v.isIntegralNumber()) {
            return new int[]{v.asInt(), v.asInt()};
        }
        if (v.size() != 2) {
            throw new KerasImportException(l.describe() + ": expected two integers, got " + v);
        }
        return new int[]{v.get(0).asInt(), v.get(1).asInt()};
    }

    static void checkChannelsLast(KLayer l) {
        JsonNode df = l.config().path("data_format");
        if (!df.isMissingNode() && !df.isNull() && !"channels_last".equals(df.asText())) {
            throw new KerasImportException(l.describe() + ": data_format " + df.asText() + " is not supported "
                    + "(channels_last only)");
        }
    }

    static void checkLinear(KLayer l) {
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
        return s.toLowerCase(Locale.ROOT);
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
        BuildContext b = new BuildContext(g, h5, wrongFlattenOrder);
        for (Step st : plan.steps()) {
            st.build(b);
        }
        g.setOutputs(plan.output());
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        for (Map.Entry<String, Map<String, INDArray>> e : b.params.entrySet()) {
            Layer layer = net.getLayer(e.getKey());
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
                if (layers instanceof Group grp) {
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
