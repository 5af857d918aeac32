package io.spherekit.trainer.keras;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Where the Keras reference outputs come from, for the trainer's Keras parity tests and the exporter's Keras → ONNX
 * Runtime test (through the trainer's test jar).
 *
 * <p>When the Python at system property {@code spherekit.python} has Keras, {@code testdata/python/keras_reference.py}
 * generates them with a fresh seed, once per build: the seed is derived from system property
 * {@code spherekit.build.id} (the reactor's start time, set by the root POM, the same in every module's test JVM),
 * and the output goes to {@code <spherekit.root>/target/keras-reference/seed-<N>-w<width>-e<embedding>/}, which the
 * next module's tests of the same build reuse. The seed is printed; {@code -Dspherekit.keras.seed=N} repeats a run.
 * Without {@code spherekit.build.id} (a test started outside Maven) each JVM draws its own seed.
 * {@code -Dspherekit.keras.width=1.0 -Dspherekit.keras.embedding=512} generates the paper-size networks instead of
 * the small default (0.125, 32).
 *
 * <p>Without such a Python, the committed fixtures in {@code testdata/fixtures/keras/} are used, and the test output
 * says so.
 */
public final class KerasReferences {

    private static Path dir;

    private KerasReferences() {
    }

    /** The repository root: system property {@code spherekit.root}, else the parent of the working directory. */
    public static Path root() {
        String r = System.getProperty("spherekit.root");
        Path p = r != null && !r.isBlank() ? Paths.get(r) : Paths.get("").toAbsolutePath().getParent();
        assertTrue(Files.isDirectory(p.resolve("testdata")), "spherekit.root is not the repository root: " + p);
        return p.toAbsolutePath().normalize();
    }

    /** The committed fallback references. */
    public static Path fixtures() {
        return root().resolve("testdata/fixtures/keras");
    }

    /** The references of this build (generated or reused), or the committed fixtures. */
    public static synchronized Path dir() {
        if (dir == null) {
            dir = locate();
        }
        return dir;
    }

    /** {@code spherekit.keras.seed}, else one derived from {@code spherekit.build.id}, else a fresh random one. */
    static int seed() {
        String seedProp = System.getProperty("spherekit.keras.seed");
        if (seedProp != null && !seedProp.isBlank()) {
            return Integer.parseInt(seedProp.strip());
        }
        String build = System.getProperty("spherekit.build.id");
        if (build != null && !build.isBlank() && !build.contains("${")) {
            return new SplittableRandom(build.hashCode()).nextInt(1_000_000);
        }
        return new SecureRandom().nextInt(1_000_000);
    }

    private static Path locate() {
        String py = System.getProperty("spherekit.python");
        if (py == null || py.isBlank() || !Files.isExecutable(Paths.get(py))) {
            System.out.println("[keras parity] no Python at spherekit.python=" + py
                    + "; skipped regenerating the Keras references, using the committed fixtures " + fixtures());
            return fixtures();
        }
        int seed = seed();
        String width = System.getProperty("spherekit.keras.width", "0.125");
        String embedding = System.getProperty("spherekit.keras.embedding", "32");
        Path out = root().resolve("target/keras-reference").resolve("seed-" + seed + "-w" + width + "-e" + embedding);
        String repeat = " (repeat with -Dspherekit.keras.seed=" + seed + ")";
        if (Files.isRegularFile(out.resolve("meta.json"))) {
            System.out.println("[keras parity] Keras references of seed " + seed + repeat + ", generated earlier in "
                    + "this build: " + out);
            return out;
        }
        try {
            Files.createDirectories(out.getParent());
            Path tmp = Files.createTempDirectory(out.getParent(), out.getFileName() + ".tmp");
            Path script = root().resolve("testdata/python/keras_reference.py");
            long t0 = System.nanoTime();
            Result r = run(List.of(py, script.toString(), "--out", tmp.toString(), "--seed", Integer.toString(seed),
                    "--depth", "4", "20", "--width", width, "--embedding", embedding, "--batch", "3"), 600);
            if (r.exit() != 0) {
                deleteTree(tmp);
                if (r.output().contains("ModuleNotFoundError")) {
                    System.out.println("[keras parity] " + py + " lacks keras/jax/h5py (see "
                            + "testdata/python/requirements.txt); skipped regenerating the Keras references, "
                            + "using the committed fixtures " + fixtures() + "\n" + lastLine(r.output()));
                    return fixtures();
                }
                fail("keras_reference.py failed with seed " + seed + repeat + " (exit " + r.exit() + "):\n"
                        + r.output());
            }
            try {
                Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException e) {
                deleteTree(tmp); // another JVM of this build finished first: same seed, same files
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot move " + tmp + " to " + out + " atomically", e);
            }
            System.out.printf("[keras parity] generated Keras references with seed %d%s in %.1f s: %s%n", seed,
                    repeat, (System.nanoTime() - t0) / 1e9, out);
            return out;
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("running " + py + " with seed " + seed + repeat + ": " + e, e);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
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
