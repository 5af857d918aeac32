package io.spherekit.core.io;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Helpers of the SIGKILL crash tests, whose child writers print {@code "writing N"} before writing generation N. */
public final class CrashTests {
    private CrashTests() {
    }

    /**
     * The first generation no killed child can have started: after the kill the child may have announced (and even
     * finished) more writes than the test read before killing it, so the rest of its output is read to its end.
     *
     * @param out  the dead child's output (reading ends at EOF, since the process is gone); kill the child with
     *             {@code process.toHandle().destroyForcibly()}, since {@code Process.destroyForcibly()} closes this stream
     * @param next the first generation after those the test saw announced
     * @return {@code max(next, 1 + the last announced generation)}
     */
    public static int nextAfterKill(BufferedReader out, int next) throws IOException {
        for (String line = out.readLine(); line != null; line = out.readLine()) {
            if (line.startsWith("writing ")) {
                next = Math.max(next, Integer.parseInt(line.substring(8).trim()) + 1);
            }
        }
        return next;
    }

    /** @return the temporary files ({@code *.tmp}, as {@code AtomicFiles} names them) in {@code dir} */
    public static List<Path> temps(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
        }
    }
}
