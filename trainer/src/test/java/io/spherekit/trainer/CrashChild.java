package io.spherekit.trainer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.spherekit.core.io.CrashTests;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The trainer's crash tests' child JVM: a writer {@code main} (on this test classpath) that prints
 * {@code "writing N"} before each write and loops until {@link #kill()} ends it with SIGKILL
 * ({@link ProcessHandle#destroyForcibly()}, which, unlike {@link Process#destroyForcibly()}, leaves the child's output
 * open so that {@link #nextAfterKill} can read it to its end).
 */
public final class CrashChild {

    private final Process process;
    private final BufferedReader out;

    private CrashChild(Process process) {
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /** Starts {@code main} with {@code args} in a new JVM with this JVM's java and class path. */
    public static CrashChild start(Class<?> main, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.awt.headless=true", "-cp", System.getProperty("java.class.path"), main.getName()));
        String ext = System.getProperty("org.bytedeco.javacpp.platform.extension");
        if (ext != null) { // the ND4J backend build this JVM loads (a CPU without AVX-512 needs -onednn)
            cmd.add(1, "-Dorg.bytedeco.javacpp.platform.extension=" + ext);
        }
        cmd.addAll(List.of(args));
        return new CrashChild(new ProcessBuilder(cmd).redirectErrorStream(true).start());
    }

    /** Waits until the child has announced {@code writes} more writes; other output (library logs) is skipped. */
    public void awaitWrites(int writes) throws IOException {
        for (int w = 0; w < writes; w++) {
            String line;
            do {
                line = out.readLine();
            } while (line != null && !line.startsWith("writing "));
            assertTrue(line != null, "the writer ended before writing");
        }
    }

    /** Kills the child after {@code delayMillis} (a random point inside, or just after, its current write). */
    public void kill(long delayMillis) throws InterruptedException {
        Thread.sleep(delayMillis);
        process.toHandle().destroyForcibly();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the killed writer did not end");
    }

    /** After {@link #kill}: {@link CrashTests#nextAfterKill} on this child's remaining output. */
    public int nextAfterKill(int next) throws IOException {
        return CrashTests.nextAfterKill(out, next);
    }

    /** @return the temporary files in {@code dir}: {@link CrashTests#temps} */
    public static List<Path> temps(Path dir) throws IOException {
        return CrashTests.temps(dir);
    }
}
