package io.spherekit.trainer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad {@code train} option values are usage errors (exit 2) reported before any data is read. */
class TrainCliUsageTest {

    @Test
    void badValuesExitTwoBeforeReadingData(@TempDir Path tmp) throws Exception {
        Path faces = TinyTrainingTest.makeDataset(tmp.resolve("faces"), 2, 3, 1);
        String[][] cases = {
                {"--depth", "5", "depth must be one of 4, 10, 20, 36, 64; got 5"},
                {"--width", "0", "width multiplier must be in (0, 4], got 0.0"},
                {"--m", "5", "--m must be in 1..4 for asoftmax, got 5"},
                {"--lr", "-1", "learning rate must be > 0, got -1.0"},
                {"--lr-schedule", "poly", "lr schedule must be step or cosine, got 'poly'"},
                {"--momentum", "1.5", "momentum must be in [0, 1), got 1.5"},
        };
        for (String[] c : cases) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            Path run = tmp.resolve("run-" + c[0].substring(2));
            int code = TrainCli.create(new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8)).execute("--images", faces.toString(),
                    "--people", "none", "--out", run.toString(), "--no-cache", c[0], c[1]);
            String e = err.toString(StandardCharsets.UTF_8);
            assertEquals(2, code, c[0] + " " + c[1] + ": " + e);
            assertTrue(e.contains(c[2]), e);
            assertTrue(!out.toString(StandardCharsets.UTF_8).contains("images ready"), "data was read for " + c[0]);
            assertTrue(!Files.exists(run.resolve("model.zip")), "nothing written for " + c[0]);
        }
    }
}
