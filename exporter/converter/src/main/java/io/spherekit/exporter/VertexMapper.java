package io.spherekit.exporter;

import io.spherekit.onnx.OnnxValue;
import org.deeplearning4j.nn.conf.graph.GraphVertex;

import java.util.List;

/** Maps one kind of DL4J graph vertex (configuration) to ONNX nodes. */
interface VertexMapper {

    /** E.g. {@code "SphereConv2D -> Conv"}, for the list of supported layers in error messages. */
    String description();

    boolean supports(GraphVertex vertex);

    /**
     * Emits the vertex's nodes. The last node must output {@link MappingContext#outputName(String)} for {@code name}
     * (use {@link MappingContext#finalNode}).
     *
     * @param inputs the ONNX values of the vertex's inputs, after its preprocessor
     * @return the vertex's output value
     */
    OnnxValue map(MappingContext ctx, String name, GraphVertex vertex, List<OnnxValue> inputs);
}
