package io.spherekit.keras;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One small Keras model per mapped layer (odd spatial sizes, seeded random weights; built by
 * testdata/python/keras_face_zoo.py), converted and run in ONNX Runtime at batch 1 and 7 against Keras' outputs:
 * max abs difference &le; 1e-4·max(1, max|y|). Together the models use every class in {@link KerasLayers}.
 */
class LayerParityTest {

    @TestFactory
    List<DynamicTest> everyLayerModelMatchesKeras() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : KerasZoo.names("layer")) {
            JsonNode m = KerasZoo.manifest().path("models").path(name);
            for (JsonNode f : m.path("files")) {
                tests.add(DynamicTest.dynamicTest(f.asText(), () -> check(name, KerasZoo.dir().resolve(f.asText()))));
            }
        }
        return tests;
    }

    static double diff(KerasToOnnx.Conversion conv, String name, int batch, byte[] model) throws Exception {
        float[] in = KerasZoo.floats(name + "_in" + batch + ".bin");
        float[] ref = Ort.toChannelsFirst(KerasZoo.floats(name + "_out" + batch + ".bin"), batch, conv.outputShape());
        float[] y = Ort.run(model, Ort.toChannelsFirst(in, batch, conv.kerasInputShape()), conv.onnxInputDims(batch));
        assertEquals(ref.length, y.length, name + " output size");
        return Ort.maxAbsDiff(Ort.doubles(ref), Ort.doubles(y)) / Math.max(1, Ort.maxAbs(ref));
    }

    private static void check(String name, Path file) throws Exception {
        KerasToOnnx.Conversion conv = KerasToOnnx.convert(file, Map.of(), KerasToOnnx.Options.defaults());
        for (int batch : new int[]{1, 7}) {
            double d = diff(conv, name, batch, conv.model().toByteArray());
            assertTrue(d <= 1e-4, file.getFileName() + " batch " + batch + ": relative max abs diff " + d);
        }
    }

    /** The layer models cover every registered Keras class (so no mapper goes untested). */
    @org.junit.jupiter.api.Test
    void layerModelsCoverTheRegistry() throws Exception {
        Set<String> used = new TreeSet<>();
        for (String name : KerasZoo.names("layer")) {
            KerasFile f = KerasFile.read(KerasZoo.dir().resolve(name + ".keras"));
            f.config().path("config").path("layers").forEach(l -> used.add(l.path("class_name").asText()));
        }
        Set<String> missing = new TreeSet<>(KerasLayers.supported());
        missing.removeAll(used);
        missing.removeAll(Set.of("GaussianNoise", "GaussianDropout", "SpatialDropout1D", "ActivityRegularization"));
        assertTrue(missing.isEmpty(), "registered but not exercised by a layer model: " + missing);
    }
}
