package io.spherekit.core.cli;

import static io.spherekit.core.cli.CliConventions.assertFailure;
import static io.spherekit.core.cli.CliConventions.assertUsageError;
import static io.spherekit.core.cli.CliConventions.assertVersion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.spherekit.core.cli.CliConventions.Run;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code spherekit demo}: the shared conventions, and the LFW check before any step runs. */
class DemoCommandTest {

    private static int demo(String[] args, PrintStream out, PrintStream err) {
        return Cli.run(new DemoCommand(), args, out, err);
    }

    @Test
    void versionUsageErrorAndMissingLfw(@TempDir Path tmp) throws IOException {
        assertVersion(DemoCommandTest::demo);
        assertUsageError(DemoCommandTest::demo, "demo", "Missing required parameter for option '--lfw' (DIR)",
                "--lfw");
        assertUsageError(DemoCommandTest::demo, "demo", "Invalid value for option '--flip': expected one of [none, sum, concat]"
                + " (case-insensitive) but was 'mirror'", "--flip", "mirror");
        Path nope = tmp.resolve("nope");
        Run r = assertFailure(DemoCommandTest::demo, "LFW not found at " + nope
                + " (expected lfw-deepfunneled/ and pairsDevTest.txt inside); pass --lfw DIR or set SPHEREKIT_LFW",
                "--lfw", nope.toString(), "--epochs", "1");
        assertEquals("", r.out());
        // a folder with the images but without the protocol file is not LFW either
        Files.createDirectories(tmp.resolve("half/lfw-deepfunneled"));
        assertFailure(DemoCommandTest::demo, "LFW not found at " + tmp.resolve("half"), "--lfw",
                tmp.resolve("half").toString());
    }

    @Test
    void helpSaysWhereLfwIsAndThatTheThresholdIsRecorded() {
        Run r = CliConventions.run(DemoCommandTest::demo, "--help");
        assertEquals(Cli.OK, r.code());
        String help = r.out().replaceAll("\\s+", " ");
        assertTrue(help.contains("Default: $SPHEREKIT_LFW, else ../shared/data/lfw next to the repository root "
                + "(-Dspherekit.home, which bin/spherekit sets; without it, the current folder counts as the root)"), help);
        assertTrue(help.contains("written into model.onnx (metadata spherekit.threshold, spherekit.threshold.source)"),
                help);
        assertTrue(help.contains("--flip=none|sum|concat test-time flip of the evaluate step: none, sum (default)"), help);
    }

    @Test
    void trainGetsTheDemoRecipeUnlessTheUserGivesEachOption() {
        Path lfw = Path.of("/data/lfw");
        Path out = Path.of("/runs/demo");
        assertEquals(List.of("--lfw", "/data/lfw", "--out", "/runs/demo", "--min-images", "1", "--epochs", "12",
                        "--lambda-gamma", "auto", "--val-fraction", "0", "--align", "crop"),
                DemoCommand.trainArguments(lfw, out, DemoCommand.Align.crop, List.of()));
        // the user's values replace the defaults, in both spellings, and keep their order at the end
        assertEquals(List.of("--lfw", "/data/lfw", "--out", "/runs/demo", "--min-images", "1", "--val-fraction", "0",
                        "--align", "detect", "--epochs", "1", "--lambda-gamma=0.12", "--max-identities", "50"),
                DemoCommand.trainArguments(lfw, out, DemoCommand.Align.detect,
                        List.of("--epochs", "1", "--lambda-gamma=0.12", "--max-identities", "50")));
    }
}
