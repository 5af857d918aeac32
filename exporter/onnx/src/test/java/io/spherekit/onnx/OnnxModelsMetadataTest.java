package io.spherekit.onnx;

import ai.onnx.proto.OnnxMl;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link OnnxModels#withMetadata}: sets some metadata_props entries and leaves everything else as it was. */
class OnnxModelsMetadataTest {

    private static OnnxMl.ModelProto model() {
        OnnxMl.GraphProto graph = OnnxMl.GraphProto.newBuilder().setName("g")
                .addNode(OnnxMl.NodeProto.newBuilder().setOpType("Relu").addInput("x").addOutput("y"))
                .build();
        return OnnxModels.stamp(graph, 17, "1.2.3", "doc", Map.of("spherekit.b", "2", "spherekit.threshold", "0.25"));
    }

    private static List<String> entries(OnnxMl.ModelProto m) {
        return m.getMetadataPropsList().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
    }

    @Test
    void replacesAndAddsEntriesSortedByKeyAndKeepsTheRest() {
        OnnxMl.ModelProto before = model();
        Map<String, String> set = new LinkedHashMap<>();
        set.put("spherekit.threshold", "0.31");
        set.put("spherekit.threshold.source", "pairsDevTest.txt 10-fold mean");
        set.put("spherekit.a", null);
        OnnxMl.ModelProto after = OnnxModels.withMetadata(before, set);
        assertEquals(List.of("spherekit.a=", "spherekit.b=2", "spherekit.threshold=0.31",
                "spherekit.threshold.source=pairsDevTest.txt 10-fold mean"), entries(after));
        assertEquals(before.getGraph(), after.getGraph());
        assertEquals(before.toBuilder().clearMetadataProps().build(), after.toBuilder().clearMetadataProps().build(),
                "only metadata_props changed");
        assertEquals(List.of("spherekit.b=2", "spherekit.threshold=0.25"), entries(before), "the input is unchanged");
        assertEquals(entries(before), entries(OnnxModels.withMetadata(before, Map.of())));
    }
}
