package io.spherekit.exporter;

import ai.onnx.proto.OnnxMl;
import io.spherekit.core.cli.Cli;
import io.spherekit.core.ModelMetadata;
import io.spherekit.core.io.AtomicFiles;
import io.spherekit.onnx.OnnxGraphBuilder;
import io.spherekit.onnx.OnnxModels;
import io.spherekit.onnx.OnnxOp;
import io.spherekit.onnx.OnnxValue;
import io.spherekit.trainer.ModelIO;
import io.spherekit.trainer.head.MarginHead;
import io.spherekit.trainer.model.SphereConv2D;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Converts a SphereFace DL4J {@link ComputationGraph} to ONNX: the backbone up to the embedding, the margin head
 * dropped.
 *
 * <p>The graph is walked in DL4J's topological order, and each vertex goes to the one {@link VertexMapper} that
 * supports it: {@code SphereConv2D → Conv}, {@code ChannelPReLU → Relu + 2 depthwise Conv + Add} (or {@code PRelu}; see
 * {@link PreluForm}), {@code ElementWiseVertex(Add) → Add},
 * {@code CnnToFeedForwardPreProcessor → Flatten(axis=1)}, {@code DenseLayer(identity) → Gemm},
 * {@code BatchNormalization → BatchNormalization} (inference form); any {@link MarginHead} output is dropped and its
 * input becomes the embedding. Other layers fail with an {@link ExportException} naming the layer, its class and
 * the supported list.
 *
 * <p>The ONNX model has input {@value #INPUT} {@code float[batch,C,H,W]} and output {@value #OUTPUT}
 * {@code float[batch,D]}; with {@link Options#l2norm()} a second output {@value #OUTPUT_NORM}, the embedding
 * divided by its L2 norm ({@code LpNormalization}, p=2; a zero row stays zero). The {@code spherekit.*}
 * metadata keys are validated ({@link ModelMetadata#parse}) and copied into {@code metadata_props}.
 *
 * <p><b>Non-finite weights are refused</b>: a NaN or infinite parameter (after conversion to float32) fails the
 * export with an error naming the layer and parameter. Such a model is broken (diverged training), every embedding
 * would be NaN, and an ONNX file that loads fine but answers NaN is worse than no file.
 */
public final class Dl4jToOnnx {

    public static final String INPUT = "input";
    public static final String OUTPUT = "embedding";
    public static final String OUTPUT_NORM = "embedding_norm";
    /** Metadata keys copied into the ONNX model start with this. */
    public static final String METADATA_PREFIX = ModelMetadata.PREFIX;
    /** Input size assumed when the metadata does not give {@code spherekit.input.height/width}. */
    public static final int DEFAULT_HEIGHT = 112;
    public static final int DEFAULT_WIDTH = 96;

    /**
     * Export options.
     *
     * @param opset     default-domain opset, {@value OnnxModels#MIN_OPSET}–{@value OnnxModels#MAX_OPSET}
     * @param l2norm    add the {@value #OUTPUT_NORM} output
     * @param precision how weights are stored (FLOAT16 halves the file; the graph still computes in float32)
     * @param batch     {@link OnnxGraphBuilder#BATCH} for a symbolic batch dim, or a fixed batch size &gt; 0
     * @param prelu     how per-channel PReLU is written ({@link PreluForm})
     */
    public record Options(int opset, boolean l2norm, OnnxGraphBuilder.WeightPrecision precision, long batch,
                          PreluForm prelu) {
        public Options {
            OnnxModels.checkOpset(opset);
            Objects.requireNonNull(precision, "precision");
            Objects.requireNonNull(prelu, "prelu");
            if (batch != OnnxGraphBuilder.BATCH && batch < 1) {
                throw new IllegalArgumentException("batch must be >= 1 or symbolic, got " + batch);
            }
        }

        public static Options defaults() {
            return new Options(OnnxModels.DEFAULT_OPSET, false, OnnxGraphBuilder.WeightPrecision.FLOAT32,
                    OnnxGraphBuilder.BATCH, PreluForm.DEPTHWISE);
        }

        public Options withOpset(int v) { return new Options(v, l2norm, precision, batch, prelu); }
        public Options withL2norm(boolean v) { return new Options(opset, v, precision, batch, prelu); }
        public Options withPrecision(OnnxGraphBuilder.WeightPrecision v) { return new Options(opset, l2norm, v, batch, prelu); }
        public Options withBatch(long v) { return new Options(opset, l2norm, precision, v, prelu); }
        public Options withPrelu(PreluForm v) { return new Options(opset, l2norm, precision, batch, v); }
    }

    /**
     * ONNX form of a per-channel PReLU {@code y = max(0,x) + a_c·min(0,x)}.
     *
     * <ul>
     *   <li>{@link #PRELU}: one {@code PRelu} node, slope {@code [C,1,1]} (the direct form).</li>
     *   <li>{@link #DEPTHWISE}: {@code y = a_c·x + (1 − a_c)·Relu(x)} as {@code Relu}, two 1×1 depthwise
     *   {@code Conv}s ({@code group = C}) and an {@code Add} (the same function: for x &gt; 0 the two terms sum to x,
     *   otherwise the Relu term is 0). ONNX Runtime's CPU provider keeps these in its blocked NCHWc layout and fuses
     *   the Add into the second Conv, whereas a {@code PRelu} forces a reorder to NCHW and back around a broadcast
     *   kernel: SphereFace-20 at batch 32 runs 1.34× faster this way (BENCHMARKS.md). The default.</li>
     * </ul>
     */
    public enum PreluForm { PRELU, DEPTHWISE }

    /**
     * A converted model.
     *
     * @param model           the ONNX model
     * @param embeddingVertex the DL4J vertex whose output is {@value #OUTPUT}
     * @param dropped         DL4J vertices left out (the margin head)
     * @param inputShape      {@code [C, H, W]}
     * @param embeddingDim    D
     */
    public record Conversion(OnnxMl.ModelProto model, String embeddingVertex, List<String> dropped,
                             long[] inputShape, long embeddingDim) {
    }

    private Dl4jToOnnx() {
    }

    /** The SphereKit version ({@link Cli#VERSION}, from the POM), stamped as ONNX producer_version. */
    public static String producerVersion() {
        return Cli.VERSION;
    }

    /** The layers and vertices this converter handles, for messages. */
    public static String supportedList() {
        List<String> all = new ArrayList<>();
        Mappers.ALL.forEach(m -> all.add(m.description()));
        all.add("CnnToFeedForwardPreProcessor(NCHW) -> Flatten");
        all.add(MarginHead.class.getSimpleName() + " (any subclass) -> dropped");
        return String.join(", ", all);
    }

    /**
     * Converts {@code graph}.
     *
     * @param metadata model metadata; the {@code spherekit.*} entries go into {@code metadata_props}, and
     *                 {@code spherekit.input.height/width} give the input size (default 112×96)
     * @throws ExportException on an unsupported layer, a non-finite weight, a graph without one embedding, or
     *                         metadata that {@link ModelMetadata#parse} refuses (naming the key and value)
     */
    public static Conversion convert(ComputationGraph graph, Map<String, String> metadata, Options options) {
        Objects.requireNonNull(graph, "graph");
        ModelMetadata meta;
        try {
            meta = ModelMetadata.parse(metadata);
        } catch (IllegalArgumentException e) {
            throw new ExportException(e.getMessage(), e);
        }
        ComputationGraphConfiguration conf = graph.getConfiguration();
        if (conf.getNetworkInputs().size() != 1) {
            throw new ExportException("expected one network input, got " + conf.getNetworkInputs());
        }
        String dlInput = conf.getNetworkInputs().get(0);
        String embedding = findEmbeddingVertex(conf);
        Set<String> needed = ancestors(conf, embedding);

        long[] chw = inputShape(conf, meta);
        Map<String, InputType> types;
        try {
            // On a clone: DL4J's type propagation may set preprocessors and nIn on the configuration it walks.
            types = new HashMap<>(conf.clone().getLayerActivationTypes(true, false,
                    InputType.convolutional(chw[1], chw[2], chw[0])));
        } catch (RuntimeException e) {
            throw new ExportException("input " + chw[0] + "x" + chw[1] + "x" + chw[2]
                    + " (CxHxW) does not fit the network: " + e.getMessage(), e);
        }
        types.put(dlInput, InputType.convolutional(chw[1], chw[2], chw[0]));
        InputType embType = types.get(embedding);
        if (!(embType instanceof InputType.InputTypeFeedForward ff)) {
            throw new ExportException("embedding vertex '" + embedding + "' outputs " + embType + ", expected a vector");
        }
        long dim = ff.getSize();

        OnnxGraphBuilder onnx = new OnnxGraphBuilder("spherekit_embedding", options.precision());
        MappingContext ctx = new MappingContext(onnx, graph, types, conf.getVertexInputs(), embedding, OUTPUT,
                options.prelu());
        Map<String, OnnxValue> values = new HashMap<>();
        values.put(dlInput, onnx.input(INPUT, OnnxMl.TensorProto.DataType.FLOAT, options.batch(), chw[0], chw[1], chw[2]));

        List<String> dropped = new ArrayList<>();
        for (int idx : graph.topologicalSortOrder()) {
            String name = graph.getVertices()[idx].getVertexName();
            if (name.equals(dlInput)) {
                continue;
            }
            if (!needed.contains(name)) {
                dropped.add(name);
                continue;
            }
            GraphVertex v = conf.getVertices().get(name);
            List<OnnxValue> inputs = new ArrayList<>();
            for (String src : conf.getVertexInputs().get(name)) {
                inputs.add(Objects.requireNonNull(values.get(src), () -> "vertex " + src + " not mapped before " + name));
            }
            if (v instanceof LayerVertex lv && lv.getPreProcessor() != null) {
                inputs = List.of(preprocess(ctx, name, lv.getPreProcessor(), inputs));
            }
            VertexMapper mapper = Mappers.ALL.stream().filter(m -> m.supports(v)).findFirst()
                    .orElseThrow(() -> unsupported(name, v));
            values.put(name, mapper.map(ctx, name, v, inputs));
        }

        OnnxValue out = values.get(embedding);
        onnx.output(out, OnnxMl.TensorProto.DataType.FLOAT, options.batch(), dim);
        if (options.l2norm()) {
            OnnxValue norm = onnx.node(OnnxOp.LP_NORMALIZATION, OUTPUT_NORM, List.of(out), Map.of("axis", 1L, "p", 2L),
                    List.of(OUTPUT_NORM)).get(0);
            onnx.output(norm, OnnxMl.TensorProto.DataType.FLOAT, options.batch(), dim);
        }
        Map<String, String> props = meta.toMap();
        String doc = "SphereKit face embedding (DL4J vertex '" + embedding + "', " + dim + "-d); margin head "
                + dropped + " dropped." + (options.l2norm() ? " Output " + OUTPUT_NORM + " is L2-normalised." : "");
        OnnxMl.ModelProto model = OnnxModels.stamp(onnx.build(), options.opset(), producerVersion(), doc, props);
        return new Conversion(model, embedding, List.copyOf(dropped), chw, dim);
    }

    private static OnnxValue preprocess(MappingContext ctx, String name, InputPreProcessor p, List<OnnxValue> inputs) {
        if (p instanceof CnnToFeedForwardPreProcessor c) {
            if (c.getFormat() != null && c.getFormat() != CNN2DFormat.NCHW) {
                throw new ExportException("layer '" + name + "': CnnToFeedForwardPreProcessor with format " + c.getFormat()
                        + " is not supported (only NCHW, which flattens over [C,H,W] like ONNX Flatten)");
            }
            return ctx.onnx().node(OnnxOp.FLATTEN, name + "_flatten", inputs, Map.of("axis", 1L));
        }
        throw new ExportException("layer '" + name + "' has input preprocessor " + p.getClass().getName()
                + ", which is not supported; supported: " + supportedList());
    }

    private static ExportException unsupported(String name, GraphVertex v) {
        Object what = Mappers.layerOf(v) != null ? Mappers.layerOf(v) : v;
        return new ExportException("cannot export vertex '" + name + "': " + what.getClass().getName()
                + " is not supported; supported: " + supportedList());
    }

    /** The vertex whose output is the embedding: the input of the margin head, or the single non-head output. */
    static String findEmbeddingVertex(ComputationGraphConfiguration conf) {
        Set<String> candidates = new LinkedHashSet<>();
        for (String out : conf.getNetworkOutputs()) {
            GraphVertex v = conf.getVertices().get(out);
            if (Mappers.layerOf(v) instanceof MarginHead) {
                List<String> in = conf.getVertexInputs().get(out);
                if (in.size() != 1) {
                    throw new ExportException("margin head '" + out + "' has " + in.size() + " inputs, expected 1");
                }
                candidates.add(in.get(0));
            } else {
                candidates.add(out);
            }
        }
        if (candidates.size() != 1) {
            throw new ExportException("expected exactly one embedding (the input of the margin head), found " + candidates);
        }
        String e = candidates.iterator().next();
        if (conf.getNetworkInputs().contains(e)) {
            throw new ExportException("the margin head reads the network input directly: there is no backbone to export");
        }
        return e;
    }

    private static Set<String> ancestors(ComputationGraphConfiguration conf, String vertex) {
        Set<String> seen = new HashSet<>();
        Deque<String> todo = new ArrayDeque<>(List.of(vertex));
        while (!todo.isEmpty()) {
            String v = todo.pop();
            if (seen.add(v)) {
                List<String> in = conf.getVertexInputs().get(v);
                if (in != null) {
                    todo.addAll(in);
                }
            }
        }
        return seen;
    }

    /** {@code [C, H, W]}: C from the first conv's nIn (3 if unknown), H/W from metadata or 112×96. */
    private static long[] inputShape(ComputationGraphConfiguration conf, ModelMetadata meta) {
        long h = meta.inputHeight().orElse(DEFAULT_HEIGHT);
        long w = meta.inputWidth().orElse(DEFAULT_WIDTH);
        long c = 3;
        String in = conf.getNetworkInputs().get(0);
        for (Map.Entry<String, List<String>> e : conf.getVertexInputs().entrySet()) {
            if (e.getValue().contains(in) && Mappers.layerOf(conf.getVertices().get(e.getKey()))
                    instanceof SphereConv2D sc && sc.getNIn() > 0) {
                c = sc.getNIn();
            }
        }
        return new long[]{c, h, w};
    }

    /** Loads a SphereKit model file and converts it. */
    public static Conversion convert(Path modelFile, Options options) throws IOException {
        ModelIO.TrainedModel m = ModelIO.load(modelFile, false);
        return convert(m.graph(), m.metadata(), options);
    }

    /**
     * Writes {@code model} atomically ({@link AtomicFiles}): to a temporary file in the target's directory, which
     * must exist, then moved into place. On any failure the temporary file is deleted and an existing target is
     * left untouched; a file system that cannot rename atomically is an error.
     *
     * @return the file size in bytes
     * @throws IOException naming the target
     */
    public static long write(OnnxMl.ModelProto model, Path target) throws IOException {
        return writeBytes(model.toByteArray(), target);
    }

    /** Writes serialised ONNX bytes atomically, as {@link #write}; returns their length. */
    static long writeBytes(byte[] bytes, Path target) throws IOException {
        AtomicFiles.writeBytes(target, bytes);
        return bytes.length;
    }
}
