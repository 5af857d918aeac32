package io.spherekit.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.SphereKitException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ModelThreshold#write}: the threshold lands in the model's metadata and nothing else changes. */
class ModelThresholdTest {

    private static final Preprocessing PRE =
            Preprocessing.fullImage(16, 16, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB);

    private static Map<String, String> metadata(Path model) throws Exception {
        Map<String, String> m = new TreeMap<>();
        OnnxMl.ModelProto.parseFrom(Files.readAllBytes(model)).getMetadataPropsList()
                .forEach(e -> m.put(e.getKey(), e.getValue()));
        return m;
    }

    private static List<String> files(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void writesThresholdAndSourceThenVerifierUsesIt(@TempDir Path dir) throws Exception {
        Path m = TestModels.standard(dir.resolve("m.onnx"), new Object[] {"n", 3, 16, 16}, 16, 16, 4, PRE.toMetadata());
        Files.setPosixFilePermissions(m, PosixFilePermissions.fromString("rw-r--r--"));
        OnnxMl.GraphProto graph = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(m)).getGraph();

        assertNull(ModelThreshold.write(m, 0.3125, "pairsDevTest.txt 10-fold mean"));
        Map<String, String> md = metadata(m);
        assertEquals("0.3125", md.get(Verifier.THRESHOLD_KEY));
        assertEquals("pairsDevTest.txt 10-fold mean", md.get(Verifier.THRESHOLD_SOURCE_KEY));
        PRE.toMetadata().forEach((k, v) -> assertEquals(v, md.get(k), k));
        assertEquals(PRE.toMetadata().size() + 2, md.size());
        OnnxMl.ModelProto after = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(m));
        assertArrayEquals(graph.toByteArray(), after.getGraph().toByteArray(), "the graph and weights are unchanged");
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(m)));
        assertEquals(List.of("m.onnx"), files(dir), "no temporary file left");

        try (FaceEmbedder fe = FaceEmbedder.builder().setModelPath(m).optProvider(Provider.CPU).build()) {
            Verifier v = Verifier.fromModelMetadata(fe);
            assertEquals(0.3125, v.threshold());
        }
        assertEquals("0.3125", ModelThreshold.write(m, -0.5, "other pairs 10-fold mean"), "returns the old value");
        assertEquals("-0.5", metadata(m).get(Verifier.THRESHOLD_KEY));
        assertEquals("other pairs 10-fold mean", metadata(m).get(Verifier.THRESHOLD_SOURCE_KEY));
    }

    @Test
    void badFilesAndValuesAreClearErrors(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing.onnx");
        SphereKitException e = assertThrows(SphereKitException.class, () -> ModelThreshold.write(missing, 0.3, "x"));
        assertEquals("model " + missing + " does not exist", e.getMessage());
        Path text = Files.writeString(dir.resolve("text.onnx"), "not a model at all\n");
        e = assertThrows(SphereKitException.class, () -> ModelThreshold.write(text, 0.3, "x"));
        assertTrue(e.getMessage().startsWith("model " + text + " is not an ONNX model"), e.getMessage());
        assertEquals("not a model at all\n", Files.readString(text), "a bad file is left as it was");
        Path m = TestModels.standard(dir.resolve("m.onnx"), new Object[] {"n", 3, 16, 16}, 16, 16, 4, PRE.toMetadata());
        byte[] before = Files.readAllBytes(m);
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> ModelThreshold.write(m, 1.5, "x"));
        assertEquals("threshold must be a cosine in [-1,1], got 1.5", bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ModelThreshold.write(m, Double.NaN, "x"));
        assertThrows(IllegalArgumentException.class, () -> ModelThreshold.write(m, 0.2, " "));
        assertArrayEquals(before, Files.readAllBytes(m));
        assertEquals(List.of("m.onnx", "text.onnx"), files(dir));
    }
}
