package io.spherekit.runtime;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Captures what is written to {@link System#err} while a block runs, e.g. slf4j-simple's log lines (it writes to
 * {@code System.err} and looks the stream up at each write unless {@code cacheOutputStream} is set, which
 * {@code simplelogger.properties} does not). The captured text is copied to the real stream afterwards, so it still
 * shows in the test output. Tests run one at a time in a fork (no parallel execution is configured).
 */
public final class StderrCapture {

    /** A block that may throw. */
    @FunctionalInterface
    public interface Block {
        void run() throws Exception;
    }

    private StderrCapture() {
    }

    /** @return everything written to {@code System.err} while {@code block} ran (UTF-8) */
    public static String of(Block block) throws Exception {
        PrintStream real = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (PrintStream capture = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            System.setErr(capture);
            try {
                block.run();
            } finally {
                System.setErr(real);
            }
        }
        String text = buf.toString(StandardCharsets.UTF_8);
        real.print(text);
        return text;
    }
}
