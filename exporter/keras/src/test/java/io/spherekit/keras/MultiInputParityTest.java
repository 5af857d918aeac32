package io.spherekit.keras;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Functional models with several Input layers (testdata/python/keras_face_zoo.py, kind "multi": three inputs of
 * different layouts: two NHWC maps and a vector; and two NHWC images): one ONNX graph input per Keras Input layer,
 * named after it, in {@code input_layers} order, each NHWC → NCHW; ONNX Runtime matches Keras' predict at batch 1 and
 * 7 to 1e-4·max(1, max|y|).
 */
class MultiInputParityTest {

    /** Runs {@code model} on the Keras reference inputs of {@code name} (each made channels-first). */
    static double diff(KerasToOnnx.Conversion conv, String name, int batch, byte[] model) throws Exception {
        Map<String, float[]> in = new LinkedHashMap<>();
        Map<String, long[]> dims = new LinkedHashMap<>();
        for (int i = 0; i < conv.inputs().size(); i++) {
            KerasToOnnx.Input input = conv.inputs().get(i);
            in.put(input.onnxName(), Ort.toChannelsFirst(KerasZoo.floats(name + "_in" + batch + "_" + i + ".bin"), batch,
                    input.kerasShape()));
            dims.put(input.onnxName(), input.onnxDims(batch));
        }
        float[] ref = Ort.toChannelsFirst(KerasZoo.floats(name + "_out" + batch + ".bin"), batch, conv.outputShape());
        float[] y = Ort.run(model, in, dims);
        assertEquals(ref.length, y.length, name + " output size");
        return Ort.maxAbsDiff(Ort.doubles(ref), Ort.doubles(y)) / Math.max(1, Ort.maxAbs(ref));
    }

    @TestFactory
    List<DynamicTest> everyMultiInputModelMatchesKeras() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : KerasZoo.names("multi")) {
            JsonNode m = KerasZoo.manifest().path("models").path(name);
            for (JsonNode f : m.path("files")) {
                tests.add(DynamicTest.dynamicTest(f.asText(), () -> {
                    Path file = KerasZoo.dir().resolve(f.asText());
                    KerasToOnnx.Conversion conv = KerasToOnnx.convert(file, Map.of(), KerasToOnnx.Options.defaults());
                    List<String> names = new ArrayList<>();
                    m.path("input_names").forEach(n -> names.add(n.asText()));
                    assertEquals(names, conv.inputs().stream().map(KerasToOnnx.Input::onnxName).toList(), "graph inputs");
                    assertEquals(names, conv.model().getGraph().getInputList().stream().map(OnnxMl.ValueInfoProto::getName).toList());
                    for (int b : new int[]{1, 7}) {
                        double d = diff(conv, name, b, conv.model().toByteArray());
                        System.out.printf("[keras multi] %-20s batch %d: relative max abs %.2e%n", f.asText(), b, d);
                        assertTrue(d <= 1e-4, file.getFileName() + " batch " + b + ": relative max abs diff " + d);
                    }
                }));
            }
        }
        assertTrue(tests.size() >= 2, "no multi-input reference models");
        return tests;
    }

    /** Each image input is declared NCHW: Keras (13, 11, 3) and (13, 11, 2) become [batch, 3, 13, 11], [batch, 2, 13, 11]. */
    @Test
    void eachImageInputIsNchw() throws Exception {
        KerasToOnnx.Conversion conv = KerasToOnnx.convert(KerasZoo.dir().resolve("three_inputs.keras"), Map.of(),
                KerasToOnnx.Options.defaults().withBatch(7));
        assertArrayEquals(new long[]{7, 3, 13, 11}, conv.inputs().get(0).onnxDims(7));
        assertArrayEquals(new long[]{7, 2, 13, 11}, conv.inputs().get(1).onnxDims(7));
        assertArrayEquals(new long[]{7, 5}, conv.inputs().get(2).onnxDims(7));
        var dims = conv.model().getGraph().getInput(1).getType().getTensorType().getShape().getDimList();
        assertEquals(List.of(7L, 2L, 13L, 11L), dims.stream().map(OnnxMl.TensorShapeProto.Dimension::getDimValue).toList());
    }

    /**
     * Negative: feeding the two images of {@code two_images} to each other's graph input (an input-order mistake) misses
     * Keras by far, so the test above would notice it.
     */
    @Test
    void swappedInputsMissKeras() throws Exception {
        KerasToOnnx.Conversion conv = KerasToOnnx.convert(KerasZoo.dir().resolve("two_images.keras"), Map.of(),
                KerasToOnnx.Options.defaults());
        List<KerasToOnnx.Input> in = conv.inputs();
        KerasToOnnx.Conversion swapped = new KerasToOnnx.Conversion(conv.model(), conv.kerasInputShape(), conv.outputShape(),
                conv.layers(), conv.modelName(), List.of(
                        new KerasToOnnx.Input(in.get(1).onnxName(), in.get(0).kerasName(), in.get(0).kerasShape()),
                        new KerasToOnnx.Input(in.get(0).onnxName(), in.get(1).kerasName(), in.get(1).kerasShape())));
        assertTrue(diff(conv, "two_images", 7, conv.model().toByteArray()) <= 1e-4);
        double d = diff(swapped, "two_images", 7, conv.model().toByteArray());
        assertTrue(d > 1e-2, "swapped inputs should miss Keras, diff " + d);
    }
}
