package io.spherekit.keras;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.databind.JsonNode;
import io.spherekit.onnx.OnnxGraphBuilder;
import io.spherekit.onnx.OnnxModels;
import io.spherekit.onnx.OnnxOp;
import io.spherekit.onnx.OnnxValue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts a Keras 3 ({@code .keras}) or legacy Keras 2 ({@code .h5}) Sequential or Functional model to ONNX, in
 * Java, with the project's writer (no DL4J, no Python).
 *
 * <p>The ONNX input is {@code input} (a model with several Input layers: one graph input per layer, named as the
 * layer, in {@code input_layers} order, each laid out as described here), float32 {@code [batch, C, H, W]} for an image model (Keras' NHWC input
 * transposed: the usual face-model layout), {@code [batch, C, L]} for a 1-D model, {@code [batch, F]} for a vector
 * model. The output is {@code embedding} ({@value #OUTPUT}); outputs of rank &ge; 3 are channels-first too. With
 * {@link Options#l2norm()} a second output {@code embedding_norm} holds the L2-normalised rows. Spatial sizes must be
 * static (they fix the "same" pads); the batch is symbolic unless {@link Options#batch()} fixes it.
 *
 * <p>Layers are mapped by {@link KerasLayers}; a layer of any other class fails before anything is written, with
 * the layer's name, class and the supported list.
 */
public final class KerasToOnnx {

    public static final String INPUT = "input";
    public static final String OUTPUT = "embedding";
    public static final String OUTPUT_NORM = "embedding_norm";

    /**
     * @param opset  default-domain opset, {@value OnnxModels#MIN_OPSET}–{@value OnnxModels#MAX_OPSET}
     * @param l2norm add the {@value #OUTPUT_NORM} output
     * @param batch  fixed batch size, or {@link OnnxGraphBuilder#BATCH} for a symbolic one
     */
    public record Options(int opset, boolean l2norm, long batch, OnnxGraphBuilder.WeightPrecision precision) {
        public Options {
            OnnxModels.checkOpset(opset);
            if (batch != OnnxGraphBuilder.BATCH && batch < 1) {
                throw new IllegalArgumentException("batch must be >= 1, got " + batch);
            }
        }

        public static Options defaults() {
            return new Options(OnnxModels.DEFAULT_OPSET, false, OnnxGraphBuilder.BATCH, OnnxGraphBuilder.WeightPrecision.FLOAT32);
        }

        public Options withOpset(int v) { return new Options(v, l2norm, batch, precision); }
        public Options withL2norm(boolean v) { return new Options(opset, v, batch, precision); }
        public Options withBatch(long v) { return new Options(opset, l2norm, v, precision); }
        public Options withPrecision(OnnxGraphBuilder.WeightPrecision v) { return new Options(opset, l2norm, batch, v); }
    }

    /**
     * One graph input: its ONNX name, the Keras input layer it stands for and that layer's shape (no batch,
     * channels_last).
     */
    public record Input(String onnxName, String kerasName, long[] kerasShape) {
        /** The ONNX dims with {@code batch} first (channels-first for rank &ge; 2). */
        public long[] onnxDims(long batch) {
            return new KTensor(null, kerasShape).onnxDims(batch);
        }
    }

    /**
     * The result: the model, the first Keras input's shape (no batch, channels_last) and the output shape, the layer
     * count, and every graph input in the model's {@code input_layers} order.
     */
    public record Conversion(OnnxMl.ModelProto model, long[] kerasInputShape, long[] outputShape, int layers,
                             String modelName, List<Input> inputs) {
        /** The first ONNX input's dims with {@code batch} first (channels-first). */
        public long[] onnxInputDims(long batch) {
            return new KTensor(null, kerasInputShape).onnxDims(batch);
        }

        /** The same conversion with another model (e.g. with more metadata). */
        public Conversion withModel(OnnxMl.ModelProto m) {
            return new Conversion(m, kerasInputShape, outputShape, layers, modelName, inputs);
        }
    }

    private KerasToOnnx() {
    }

    /** "Conv1D, Conv2D, ..." for error messages. */
    public static String supportedList() {
        return String.join(", ", KerasLayers.supported());
    }

    /** Reads and converts {@code file}; see {@link KerasFile#read} and {@link #convert(KerasFile, Map, Options)}. */
    public static Conversion convert(Path file, Map<String, String> metadata, Options options) {
        return convert(KerasFile.read(file), metadata, options);
    }

    /**
     * Converts a read model.
     *
     * @param metadata written to {@code metadata_props} as given (e.g. the runtime's preprocessing keys)
     * @throws KerasException naming the file and layer, on an unsupported layer, a shared layer, a nested model,
     *                        a multi-output model, a missing weight or a shape the mapping cannot take
     */
    public static Conversion convert(KerasFile file, Map<String, String> metadata, Options options) {
        try {
            return doConvert(file, metadata, options);
        } catch (KerasException e) {
            throw new KerasException(file.file() + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new KerasException(file.file() + ": " + e, e);
        }
    }

    private record Node(KerasLayer layer, List<String> inputs) {
    }

    private static Conversion doConvert(KerasFile file, Map<String, String> metadata, Options options) {
        JsonNode root = file.config();
        String cls = root.path("class_name").asText();
        JsonNode cfg = root.path("config");
        List<Node> nodes = new ArrayList<>();
        List<String> inputNames = new ArrayList<>();
        List<String> outputNames = new ArrayList<>();
        Map<String, long[]> inputShapes = new LinkedHashMap<>();
        JsonNode layers = cfg.path("layers");
        if (!layers.isArray() || layers.isEmpty()) {
            throw new KerasException("model config has no layers (class_name '" + cls + "')");
        }
        if (cls.equals("Sequential")) {
            String prev = null;
            for (JsonNode lj : layers) {
                KerasLayer l = layer(file, lj);
                if (l.className().equals("InputLayer")) {
                    inputShapes.put(l.name(), batchShape(l));
                    inputNames.add(l.name());
                    prev = l.name();
                    continue;
                }
                if (prev == null) {
                    JsonNode bis = l.config().get("batch_input_shape");
                    if (bis == null) {
                        bis = l.config().get("batch_shape");
                    }
                    if (bis == null) {
                        throw new KerasException("Sequential model without an InputLayer or batch_input_shape: "
                                + "the input shape is unknown");
                    }
                    inputShapes.put("input_1", tail(bis));
                    inputNames.add("input_1");
                    prev = "input_1";
                }
                nodes.add(new Node(l, List.of(prev)));
                prev = l.name();
            }
            outputNames.add(prev);
        } else if (cls.equals("Functional") || cls.equals("Model")) {
            for (JsonNode lj : layers) {
                KerasLayer l = layer(file, lj);
                if (l.className().equals("InputLayer")) {
                    inputShapes.put(l.name(), batchShape(l));
                    continue;
                }
                JsonNode inbound = lj.path("inbound_nodes");
                if (inbound.size() != 1) {
                    throw new KerasException("layer " + l.describe() + " is called " + inbound.size()
                            + " times (shared layers are not supported)");
                }
                List<String> ins = new ArrayList<>();
                collectHistory(inbound.get(0), ins);
                nodes.add(new Node(l, ins));
            }
            refs(cfg.path("input_layers"), inputNames);
            refs(cfg.path("output_layers"), outputNames);
        } else {
            throw new KerasException("unsupported model class '" + cls + "' (expected Sequential or Functional)");
        }
        if (inputNames.isEmpty() || outputNames.size() != 1) {
            throw new KerasException("only single-output models with at least one input are supported; inputs "
                    + inputNames + ", outputs " + outputNames);
        }
        // Fail before writing: every layer must be supported.
        for (Node n : nodes) {
            if (KerasLayers.mapper(n.layer().className()) == null) {
                throw new KerasException("layer " + n.layer().describe() + " is not supported; supported layers: "
                        + supportedList());
            }
        }

        OnnxGraphBuilder g = new OnnxGraphBuilder(cfg.path("name").asText("keras_model"), options.precision());
        Ctx ctx = new Ctx(g, options.opset());
        Map<String, KTensor> values = new LinkedHashMap<>();
        List<Input> inputs = new ArrayList<>();
        for (String in : inputNames) {
            long[] inShape = inputShapes.get(in);
            if (inShape == null) {
                throw new KerasException("input layer '" + in + "' not found");
            }
            for (long d : inShape) {
                if (d <= 0) {
                    throw new KerasException("input '" + in + "' has a dynamic dimension " + Arrays.toString(inShape)
                            + "; spatial sizes must be fixed");
                }
            }
            // One input keeps the name 'input'; several take their Keras names (each NHWC -> NCHW like the first).
            String onnxName = inputNames.size() == 1 ? INPUT : in;
            if (onnxName.equals(OUTPUT) || onnxName.equals(OUTPUT_NORM)
                    || inputs.stream().anyMatch(i -> i.onnxName().equals(onnxName))) {
                throw new KerasException("input layer '" + in + "' has a name the ONNX graph reserves or repeats: "
                        + OUTPUT + ", " + OUTPUT_NORM);
            }
            KTensor probe = new KTensor(null, inShape);
            OnnxValue input = g.input(onnxName, OnnxMl.TensorProto.DataType.FLOAT, probe.onnxDims(options.batch()));
            values.put(in, new KTensor(input, inShape));
            inputs.add(new Input(onnxName, in, inShape.clone()));
        }
        long[] inShape = inputs.get(0).kerasShape();
        // Reserved before any layer takes them (a Keras layer may be called 'embedding').
        String outName = g.uniqueName(OUTPUT);
        String normName = options.l2norm() ? g.uniqueName(OUTPUT_NORM) : null;

        List<Node> pending = new ArrayList<>(nodes);
        while (!pending.isEmpty()) {
            boolean progress = false;
            for (var it = pending.iterator(); it.hasNext(); ) {
                Node n = it.next();
                if (!n.inputs().stream().allMatch(values::containsKey)) {
                    continue;
                }
                List<KTensor> args = n.inputs().stream().map(values::get).toList();
                KTensor out;
                try {
                    out = KerasLayers.mapper(n.layer().className()).map(ctx, n.layer(), args);
                } catch (KerasException e) {
                    throw e;
                } catch (RuntimeException e) {
                    throw new KerasException("layer " + n.layer().describe() + ": " + e.getMessage(), e);
                }
                values.put(n.layer().name(), out);
                it.remove();
                progress = true;
            }
            if (!progress) {
                throw new KerasException("layers " + pending.stream().map(n -> n.layer().describe()).toList()
                        + " have inputs no layer produces");
            }
        }
        KTensor out = values.get(outputNames.get(0));
        if (out == null) {
            throw new KerasException("output layer '" + outputNames.get(0) + "' not found");
        }
        OnnxValue y = g.node(OnnxOp.IDENTITY, OUTPUT, List.of(out.value()), Map.of(), List.of(outName)).get(0);
        g.output(y, OnnxMl.TensorProto.DataType.FLOAT, out.onnxDims(options.batch()));
        if (options.l2norm()) {
            if (out.rank() != 1) {
                throw new KerasException("--l2norm needs a [batch, D] output, got " + Arrays.toString(out.shape()));
            }
            OnnxValue norm = g.node(OnnxOp.LP_NORMALIZATION, OUTPUT_NORM, List.of(out.value()),
                    Map.of("axis", 1L, "p", 2L), List.of(normName)).get(0);
            g.output(norm, OnnxMl.TensorProto.DataType.FLOAT, out.onnxDims(options.batch()));
        }
        String doc = "Converted from Keras " + cls + " model '" + cfg.path("name").asText() + "' (" + file.file().getFileName()
                + ") by SphereKit io.spherekit.keras.KerasToOnnx; input NCHW (Keras NHWC transposed).";
        OnnxMl.ModelProto model = OnnxModels.stamp(g.build(), options.opset(), version(), doc,
                metadata == null ? Map.of() : metadata);
        return new Conversion(model, inShape, out.shape(), nodes.size(), cfg.path("name").asText(), List.copyOf(inputs));
    }

    static String version() {
        String v = KerasToOnnx.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    private static KerasLayer layer(KerasFile file, JsonNode lj) {
        String cls = lj.path("class_name").asText();
        JsonNode c = lj.path("config");
        String name = lj.has("name") ? lj.get("name").asText() : c.path("name").asText();
        List<KerasFile.Tensor> w = file.weights().getOrDefault(name, List.of());
        return new KerasLayer(name, cls, c, w);
    }

    private static long[] batchShape(KerasLayer l) {
        JsonNode s = l.config().get("batch_shape");
        if (s == null) {
            s = l.config().get("batch_input_shape");
        }
        if (s == null || !s.isArray()) {
            throw new KerasException("input layer " + l.describe() + " has no batch_shape");
        }
        return tail(s);
    }

    private static long[] tail(JsonNode s) {
        long[] out = new long[s.size() - 1];
        for (int i = 1; i < s.size(); i++) {
            out[i - 1] = s.get(i).isNull() ? -1 : s.get(i).asLong();
        }
        return out;
    }

    /** Keras 3 ({@code keras_history}) and Keras 2 ({@code [[name, node, tensor, kwargs], ...]}) inbound nodes. */
    private static void collectHistory(JsonNode n, List<String> out) {
        if (n.isObject()) {
            JsonNode h = n.path("config").get("keras_history");
            if (h != null && n.path("class_name").asText().equals("__keras_tensor__")) {
                out.add(h.get(0).asText());
                return;
            }
            JsonNode args = n.get("args");
            if (args != null) {
                collectHistory(args, out);
            }
            return;
        }
        if (n.isArray()) {
            if (n.size() >= 3 && n.get(0).isTextual() && n.get(1).isInt()) {
                out.add(n.get(0).asText());
                return;
            }
            n.forEach(e -> collectHistory(e, out));
        }
    }

    /** {@code ["name", 0, 0]} or {@code [["name", 0, 0], ...]}. */
    private static void refs(JsonNode n, List<String> out) {
        if (n.isArray() && n.size() >= 1 && n.get(0).isTextual()) {
            out.add(n.get(0).asText());
        } else if (n.isArray()) {
            n.forEach(e -> refs(e, out));
        }
    }
}
