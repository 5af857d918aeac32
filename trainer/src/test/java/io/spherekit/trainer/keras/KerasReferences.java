package io.spherekit.trainer.keras;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Where the Keras reference outputs come from: regenerated once per test JVM with a fresh random seed by
 * {@code testdata/python/keras_reference.py} when the Python at system property {@code spherekit.python} has Keras
 * (the seed is printed; {@code -Dspherekit.keras.seed=N} repeats a run), else the committed fixtures in
 * {@code testdata/fixtures/keras/} under {@code spherekit.root}. {@code -Dspherekit.keras.width=1.0
 * -Dspherekit.keras.embedding=512} regenerates the paper-size networks instead of the small default (0.125, 32).
 */
final class KerasReferences {

    private static Path dir;

    private KerasReferences() {
    }

    static Path root() {
        String r = System.getProperty("spherekit.root");
        Path p = r != null && !r.isBlank() ? Paths.get(r) : Paths.get("").toAbsolutePath().getParent();
        assertTrue(Files.isDirectory(p.resolve("testdata")), "spherekit.root is not the repository root: " + p);
        return p;
    }

    static Path fixtures() {
        return root().resolve("testdata/fixtures/keras");
    }

    static synchronized Path dir() {
        if (dir == null) {
            dir = locate();
        }
        return dir;
    }

    private static Path locate() {
        String py = System.getProperty("spherekit.python");
        if (py == null || py.isBlank() || !Files.isExecutable(Paths.get(py))) {
            System.out.println("[keras parity] no Python at spherekit.python=" + py
                    + "; skipped regenerating the Keras references, using the committed fixtures " + fixtures());
            return fixtures();
        }
        try {
            String seedProp = System.getProperty("spherekit.keras.seed");
            int seed = seedProp != null && !seedProp.isBlank() ? Integer.parseInt(seedProp)
                    : new SecureRandom().nextInt(1_000_000);
            Path out = Paths.get("target", "keras-reference", "seed-" + seed).toAbsolutePath();
            Files.createDirectories(out);
            Path script = root().resolve("testdata/python/keras_reference.py");
            long t0 = System.nanoTime();
            Result r = run(List.of(py, script.toString(), "--out", out.toString(), "--seed", Integer.toString(seed),
                    "--depth", "4", "20", "--width", System.getProperty("spherekit.keras.width", "0.125"),
                    "--embedding", System.getProperty("spherekit.keras.embedding", "32"), "--batch", "3"), 600);
            if (r.exit() != 0 && r.output().contains("ModuleNotFoundError")) {
                System.out.println("[keras parity] " + py + " lacks keras/jax/h5py (see "
                        + "testdata/python/requirements-keras.txt); skipped regenerating the Keras references, "
                        + "using the committed fixtures " + fixtures() + "\n" + lastLine(r.output()));
                return fixtures();
            }
            if (r.exit() != 0) {
                fail("keras_reference.py failed (exit " + r.exit() + "):\n" + r.output());
            }
            System.out.printf("[keras parity] regenerated Keras references with seed %d in %.1f s -> %s%n", seed,
                    (System.nanoTime() - t0) / 1e9, out);
            return out;
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("running " + py + ": " + e, e);
        }
    }

    private static String lastLine(String s) {
        String t = s.strip();
        return t.substring(t.lastIndexOf('\n') + 1);
    }

    record Result(int exit, String output) {
    }

    private static Result run(List<String> cmd, int timeoutSeconds) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("KERAS_BACKEND", "jax");
        pb.environment().put("JAX_PLATFORMS", "cpu");
        Path log = Files.createTempFile("keras-reference", ".log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timed out after " + timeoutSeconds + " s: " + cmd);
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        Files.deleteIfExists(log);
        return new Result(p.exitValue(), out);
    }
}
