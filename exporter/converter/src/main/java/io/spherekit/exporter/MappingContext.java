package io.spherekit.exporter;

import io.spherekit.onnx.OnnxGraphBuilder;
import io.spherekit.onnx.OnnxOp;
import io.spherekit.onnx.OnnxValue;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a {@link VertexMapper} sees: the ONNX builder, the DL4J network's layers (parameters), the activation types
 * of all vertices, and the batch-norm folding plan.
 */
final class MappingContext {
    private final OnnxGraphBuilder onnx;
    private final Map<String, Layer> layers;
    private final Map<String, InputType> activationTypes;
    private final Map<String, List<String>> vertexInputs;
    private final String embeddingVertex;
    private final String embeddingOutputName;
    private final Dl4jToOnnx.PreluForm preluForm;
    /** conv vertex → the BatchNormalization vertex folded into it. */
    private final Map<String, String> foldedInto;
    private final Map<String, GraphVertex> vertices;
    private final Map<String, InputType> inputTypes;

    /**
     * @param inputTypes the type each vertex's first input has after the vertex's own preprocessor
     */
    MappingContext(OnnxGraphBuilder onnx, Map<String, GraphVertex> vertices, Map<String, Layer> layers,
                   Map<String, InputType> activationTypes, Map<String, InputType> inputTypes,
                   Map<String, List<String>> vertexInputs, String embeddingVertex, String embeddingOutputName,
                   Dl4jToOnnx.PreluForm preluForm, Map<String, String> foldedInto) {
        this.vertices = vertices;
        this.inputTypes = inputTypes;
        this.preluForm = preluForm;
        this.vertexInputs = vertexInputs;
        this.onnx = onnx;
        this.layers = layers;
        this.activationTypes = activationTypes;
        this.embeddingVertex = embeddingVertex;
        this.embeddingOutputName = embeddingOutputName;
        this.foldedInto = foldedInto;
    }

    /** The BatchNormalization vertex folded into conv vertex {@code conv}, or null. */
    String foldedBatchNorm(String conv) {
        return foldedInto.get(conv);
    }

    /** Whether BatchNormalization vertex {@code bn} was folded into its input conv (it then emits nothing). */
    boolean isFolded(String bn) {
        return foldedInto.containsValue(bn);
    }

    OnnxGraphBuilder onnx() {
        return onnx;
    }

    /** The requested ONNX form of PReLU layers. */
    Dl4jToOnnx.PreluForm preluForm() {
        return preluForm;
    }

    /** The output type of a vertex (or network input) as computed by DL4J from the network input type. */
    InputType activationType(String vertex) {
        InputType t = activationTypes.get(vertex);
        if (t == null) {
            throw new ExportException("no activation type known for vertex '" + vertex + "'");
        }
        return t;
    }

    /** The type of the vertex's first input, after the vertex's own preprocessor (if any). */
    InputType inputType(String vertex) {
        InputType t = inputTypes.get(vertex);
        return t != null ? t : activationType(vertexInputs.get(vertex).get(0));
    }

    /** The vertex's configuration. */
    GraphVertex vertex(String name) {
        GraphVertex v = vertices.get(name);
        if (v == null) {
            throw new ExportException("no vertex '" + name + "'");
        }
        return v;
    }

    /** The name the vertex's final ONNX value must get: the graph output name for the embedding vertex. */
    String outputName(String vertex) {
        String bn = foldedInto.get(vertex);
        if (bn != null) {
            return outputName(bn);
        }
        return embeddingVertex != null && vertex.equals(embeddingVertex) ? embeddingOutputName : onnx.uniqueName(vertex);
    }

    /** Adds the vertex's final node, whose output gets {@link #outputName}. */
    OnnxValue finalNode(OnnxOp op, String vertex, List<OnnxValue> inputs, Map<String, ?> attributes) {
        return onnx.node(op, vertex, inputs, attributes, List.of(outputName(vertex))).get(0);
    }

    /**
     * Checks that the layer's parameters are exactly {@code allowed} (a subset when {@code required} is smaller).
     */
    void checkParams(String vertex, Set<String> required, Set<String> allowed) {
        Set<String> have = new TreeSet<>(layer(vertex).paramTable().keySet());
        if (!have.containsAll(required) || !allowed.containsAll(have)) {
            throw new ExportException("layer '" + vertex + "' has parameters " + have + "; expected " + new TreeSet<>(required)
                    + (allowed.equals(required) ? "" : " (optionally " + new TreeSet<>(allowed) + ")"));
        }
    }

    /**
     * Adds one of the vertex's nodes: with {@code last} its final node ({@link #finalNode}), otherwise an inner node
     * named after the vertex.
     */
    OnnxValue node(OnnxOp op, String vertex, List<OnnxValue> inputs, Map<String, ?> attributes, boolean last) {
        return last ? finalNode(op, vertex, inputs, attributes) : onnx.node(op, vertex, inputs, attributes);
    }

    /** A float scalar constant (rank 0). */
    OnnxValue scalar(String hint, float v) {
        return onnx.floatInitializer(hint, new float[]{v});
    }

    Layer layer(String vertex) {
        Layer l = layers.get(vertex);
        if (l == null) {
            throw new ExportException("vertex '" + vertex + "' is not a layer");
        }
        return l;
    }

    /**
     * A parameter as float32 in row-major order, after checking its shape and that every element is finite.
     *
     * @param expectedShape the DL4J shape the parameter must have (unit dimensions aside)
     * @throws ExportException naming the layer and parameter (and the first bad index) on a missing parameter, a
     *                         shape mismatch, or a NaN / infinite element
     */
    float[] param(String vertex, String name, long... expectedShape) {
        INDArray a = layer(vertex).paramTable().get(name);
        if (a == null) {
            throw new ExportException("layer '" + vertex + "' has no parameter '" + name + "' (has "
                    + new TreeSet<>(layer(vertex).paramTable().keySet()) + ")");
        }
        // DL4J keeps some vectors as [1, n] and others as [n]: compare without the unit dimensions.
        if (!Arrays.equals(squeeze(a.shape()), squeeze(expectedShape))) {
            throw new ExportException("parameter " + vertex + "/" + name + " has shape " + Arrays.toString(a.shape())
                    + ", expected " + Arrays.toString(expectedShape));
        }
        // c-order copy: the raw buffer of an f-order view (DenseLayer W) is in the wrong order.
        float[] v = Nd4j.toFlattened('c', a).castTo(DataType.FLOAT).toFloatVector();
        checkFinite(vertex + "/" + name, v);
        return v;
    }

    private static long[] squeeze(long[] shape) {
        return Arrays.stream(shape).filter(d -> d != 1).toArray();
    }

    static void checkFinite(String what, float[] v) {
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                throw new ExportException("parameter " + what + " holds a non-finite value (" + v[i] + " at flat index " + i
                        + " of " + v.length + "); refusing to export a broken model");
            }
        }
    }
}
