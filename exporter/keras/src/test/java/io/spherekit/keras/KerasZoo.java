package io.spherekit.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spherekit.onnx.OnnxChecker;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The Keras reference models of this build: {@code testdata/python/keras_face_zoo.py} run once per build (seed
 * derived from {@code spherekit.build.id}, as {@code KerasReferences} does for the trainer; {@code
 * -Dspherekit.keras.seed=N} repeats a run) into {@code <spherekit.root>/exporter/keras/target/keras-zoo/seed-N/}.
 * Nothing is committed. Without the build's Python ({@code spherekit.python}) the tests fail with how to make it,
 * or skip under {@code -Dspherekit.skipPython=true}.
 */
final class KerasZoo {
    private static Path dir;
    private static JsonNode manifest;

    private KerasZoo() {
    }

    static Path root() {
        return OnnxChecker.root();
    }

    /** The build's Python (keras, jax and onnx), as {@link OnnxChecker#python()} finds it. */
    static Path python() {
        return OnnxChecker.python();
    }

    static int seed() {
        String s = System.getProperty("spherekit.keras.seed");
        if (s != null && !s.isBlank()) {
            return Integer.parseInt(s.strip());
        }
        String build = System.getProperty("spherekit.build.id");
        if (build != null && !build.isBlank() && !build.contains("${")) {
            return new SplittableRandom(build.hashCode()).nextInt(1_000_000);
        }
        return new SecureRandom().nextInt(1_000_000);
    }

    static synchronized Path dir() throws IOException, InterruptedException {
        if (dir != null) {
            return dir;
        }
        Path py = python();
        int seed = seed();
        Path out = root().resolve("exporter/keras/target/keras-zoo/seed-" + seed);
        if (!Files.isRegularFile(out.resolve("manifest.json"))) {
            Files.createDirectories(out.getParent());
            Path tmp = Files.createTempDirectory(out.getParent(), out.getFileName() + ".tmp");
            Path log = tmp.resolve("generate.log");
            ProcessBuilder pb = new ProcessBuilder(py.toString(), root().resolve("testdata/python/keras_face_zoo.py").toString(),
                    "--out", tmp.toString(), "--seed", Integer.toString(seed)).redirectErrorStream(true)
                    .redirectOutput(log.toFile());
            pb.environment().put("KERAS_BACKEND", "jax");
            pb.environment().put("JAX_PLATFORMS", "cpu");
            long t0 = System.nanoTime();
            Process p = pb.start();
            if (!p.waitFor(900, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("keras_face_zoo.py timed out (seed " + seed + ")");
            }
            if (p.exitValue() != 0) {
                fail("keras_face_zoo.py failed with seed " + seed + " (repeat with -Dspherekit.keras.seed=" + seed
                        + "):\n" + Files.readString(log));
            }
            try {
                Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException e) {
                deleteTree(tmp);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot move " + tmp + " to " + out + " atomically", e);
            }
            System.out.printf("[keras zoo] generated the Keras reference models with seed %d in %.1f s: %s%n", seed,
                    (System.nanoTime() - t0) / 1e9, out);
        } else {
            System.out.println("[keras zoo] Keras reference models of seed " + seed + ", generated earlier: " + out);
        }
        dir = out;
        manifest = new ObjectMapper().readTree(out.resolve("manifest.json").toFile());
        return dir;
    }

    static JsonNode manifest() throws IOException, InterruptedException {
        dir();
        return manifest;
    }

    static List<String> names(String kind) throws IOException, InterruptedException {
        List<String> out = new ArrayList<>();
        manifest().path("models").fields().forEachRemaining(e -> {
            if (e.getValue().path("kind").asText().equals(kind)) {
                out.add(e.getKey());
            }
        });
        return out;
    }

    static float[] floats(String file) throws IOException, InterruptedException {
        byte[] b = Files.readAllBytes(dir().resolve(file));
        float[] f = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }
}
