package io.spherekit.trainer;

import io.spherekit.core.cli.Cli;
import io.spherekit.core.cli.CliConventions;
import io.spherekit.core.cli.CliConventions.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static io.spherekit.core.cli.CliConventions.assertFailure;
import static io.spherekit.core.cli.CliConventions.assertUsageError;
import static io.spherekit.core.cli.CliConventions.assertVersion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code train} follows the shared conventions, and bad option values are usage errors (exit 2) reported before
 * any data is read.
 */
class TrainCliUsageTest {

    @Test
    void badValuesExitTwoBeforeReadingData(@TempDir Path tmp) throws Exception {
        Path faces = TinyTrainingTest.makeDataset(tmp.resolve("faces"), 2, 3, 1);
        String[] common = {"--images", faces.toString(), "--people", "none", "--no-cache", "--val-fraction", "0"};
        // Control: valid values read the data, which the trainer reports on stderr, and write the model.
        Path ok = tmp.resolve("run-ok");
        Run good = CliConventions.run(TrainCli::run, concat(common, "--out", ok.toString(), "--depth", "4",
                "--width", "0.125", "--embedding-dim", "16", "--epochs", "1", "--batch", "2", "--lambda-gamma", "auto",
                "--augment", "scale=0.1,rotate=10,color=0.2,erase=0.5", "--label-smoothing", "0.1", "--random-crop", "4"));
        assertEquals(Cli.OK, good.code(), good.err());
        String report = Files.readString(ok.resolve("train-report.json"));
        assertTrue(report.contains("\"augmentation\" : \"scale=0.1,rotate=10,color=0.2,erase=0.5\""), report);
        assertTrue(report.contains("\"labelSmoothing\" : 0.1"), report);
        assertTrue(good.err().contains("images ready"), good.err());
        assertTrue(Files.exists(ok.resolve("model.zip")));

        String[][] cases = {
                {"--depth", "5", "depth must be one of 4, 10, 20, 36, 64; got 5"},
                {"--width", "0", "width multiplier must be in (0, 4], got 0.0"},
                {"--m", "5", "--m must be in 1..4 for asoftmax, got 5"},
                {"--lr", "-1", "learning rate must be > 0, got -1.0"},
                {"--lr-schedule", "poly", "lr schedule must be step or cosine, got 'poly'"},
                {"--momentum", "1.5", "momentum must be in [0, 1), got 1.5"},
                {"--input", "112by96", "--input must be HxW, e.g. 112x96; got 112by96"},
                {"--lambda-gamma", "fast", "'fast' is neither a number nor 'auto'"},
                {"--lambda-gamma", "-0.1", "γ must be >= 0 or 'auto', got -0.1"},
                {"--scale", "big", "'big' is neither a number nor 'auto'"},
                {"--scale", "0", "s must be a finite number > 0 or 'auto', got 0"},
                {"--augment", "rotate=90", "augmentation rotate must be in [0, 45], got 90.0"},
                {"--augment", "blur=1", "unknown augmentation 'blur'; expected none | key=value"},
                {"--augment", "scale=big", "augmentation scale=big is not a number"},
                {"--label-smoothing", "1", "label smoothing must be in [0, 1), got 1.0"},
        };
        for (String[] c : cases) {
            Path run = tmp.resolve("run-" + c[0].substring(2));
            Run r = assertUsageError(TrainCli::run, "train", c[2], concat(common, "--out", run.toString(), c[0], c[1]));
            assertFalse(r.err().contains("images ready") || r.err().contains("data: "), "data was read for " + c[0]
                    + ": " + r.err());
            assertFalse(Files.exists(run.resolve("model.zip")), "nothing written for " + c[0]);
        }
    }

    @Test
    void versionAndMissingLfw(@TempDir Path tmp) {
        assertVersion(TrainCli::run);
        Path nope = tmp.resolve("no-lfw");
        assertFailure(TrainCli::run, "LFW not found at " + nope + " (expected lfw-deepfunneled/ inside); pass --lfw DIR,"
                + " set SPHEREKIT_LFW or give --images DIR", "--lfw", nope.toString(), "--out", tmp.resolve("r").toString());
        assertFailure(TrainCli::run, "image root is not a directory: " + nope, "--images", nope.toString(),
                "--people", "none", "--out", tmp.resolve("r").toString(), "--no-cache");
        assertFalse(Files.exists(tmp.resolve("r/model.zip")));
    }

    @Test
    void helpSaysWhereLfwIsFound() {
        Run r = CliConventions.run(TrainCli::run, "--help");
        assertEquals(Cli.OK, r.code());
        String help = r.out().replaceAll("\\s+", " ");
        assertTrue(help.contains("--lfw=DIR LFW folder (lfw-deepfunneled/ + protocol files). Default: $SPHEREKIT_LFW, "
                + "else ../shared/data/lfw next to the repository root (-Dspherekit.home, which bin/spherekit sets; "
                + "without it, the current folder counts as the root)."), help);
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
