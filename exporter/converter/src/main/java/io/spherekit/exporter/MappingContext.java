package io.spherekit.exporter;

import io.spherekit.onnx.OnnxGraphBuilder;
import io.spherekit.onnx.OnnxOp;
import io.spherekit.onnx.OnnxValue;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** What a {@link VertexMapper} sees: the ONNX builder, the DL4J graph, and the activation types of all vertices. */
final class MappingContext {
    private final OnnxGraphBuilder onnx;
    private final ComputationGraph graph;
    private final Map<String, InputType> activationTypes;
    private final Map<String, List<String>> vertexInputs;
    private final String embeddingVertex;
    private final String embeddingOutputName;

    private final Dl4jToOnnx.PreluForm preluForm;

    MappingContext(OnnxGraphBuilder onnx, ComputationGraph graph, Map<String, InputType> activationTypes,
                   Map<String, List<String>> vertexInputs, String embeddingVertex, String embeddingOutputName,
                   Dl4jToOnnx.PreluForm preluForm) {
        this.preluForm = preluForm;
        this.vertexInputs = vertexInputs;
        this.onnx = onnx;
        this.graph = graph;
        this.activationTypes = activationTypes;
        this.embeddingVertex = embeddingVertex;
        this.embeddingOutputName = embeddingOutputName;
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

    /** The activation type of the vertex's first input (before its preprocessor). */
    InputType inputType(String vertex) {
        return activationType(vertexInputs.get(vertex).get(0));
    }

    /** The name the vertex's final ONNX value must get: the graph output name for the embedding vertex. */
    String outputName(String vertex) {
        return vertex.equals(embeddingVertex) ? embeddingOutputName : onnx.uniqueName(vertex);
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

    Layer layer(String vertex) {
        Layer l = graph.getLayer(vertex);
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
