package io.spherekit.onnx;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code io.spherekit.onnx} depends on protobuf and the ONNX classes only: no DL4J, no ND4J. */
class OnnxPackageIsolationTest {
    private static final List<String> FORBIDDEN = List.of("org.deeplearning4j", "org.nd4j", "io.spherekit.trainer",
            "io.spherekit.exporter", "ai.onnxruntime");

    private static List<Path> files(Path dir, String suffix) throws IOException {
        assertTrue(Files.isDirectory(dir), "missing " + dir.toAbsolutePath());
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(suffix)).sorted().toList();
        }
    }

    @Test
    void sourcesImportNoDl4jOrNd4j() throws IOException {
        List<Path> sources = files(Path.of("src/main/java/io/spherekit/onnx"), ".java");
        assertTrue(sources.size() >= 5, "expected the package's sources, found " + sources);
        List<String> offending = new ArrayList<>();
        for (Path p : sources) {
            String text = Files.readString(p, StandardCharsets.UTF_8);
            for (String f : FORBIDDEN) {
                if (text.contains(f)) {
                    offending.add(p.getFileName() + " mentions " + f);
                }
            }
        }
        assertEquals(List.of(), offending);
    }

    @Test
    void compiledClassesReferenceNoDl4jOrNd4j() throws IOException {
        List<Path> classes = files(Path.of("target/classes/io/spherekit/onnx"), ".class");
        assertTrue(classes.size() >= 5, "expected compiled classes, found " + classes);
        List<String> offending = new ArrayList<>();
        for (Path p : classes) {
            // Constant-pool class references use internal names, e.g. org/nd4j/linalg/...
            String bytes = new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1);
            for (String f : FORBIDDEN) {
                if (bytes.contains(f.replace('.', '/'))) {
                    offending.add(p.getFileName() + " references " + f);
                }
            }
        }
        assertEquals(List.of(), offending);
    }
}
