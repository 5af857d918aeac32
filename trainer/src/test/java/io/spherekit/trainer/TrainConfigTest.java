package io.spherekit.trainer;

import io.spherekit.trainer.data.Augmentation;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link TrainConfig}: named construction, the report's key order, validation. */
class TrainConfigTest {

    private static TrainConfig.Builder minimal() {
        return TrainConfig.builder().imageRoot(Path.of("faces")).outputDir(Path.of("run"));
    }

    @Test
    void augmentationAndLabelSmoothingEnterTheFingerprintOnlyWhenSet() {
        String plain = minimal().build().fingerprint();
        assertFalse(plain.contains("augment") || plain.contains("smoothing"), plain);
        assertEquals(plain + "|augment=rotate=10", minimal().augmentation(Augmentation.parse("rotate=10")).build()
                .fingerprint());
        assertEquals(plain + "|smoothing=0.1", minimal().labelSmoothing(0.1).build().fingerprint());
        assertThrows(IllegalArgumentException.class, () -> minimal().labelSmoothing(-0.1).build());
        assertThrows(NullPointerException.class, () -> minimal().augmentation(null).build());
    }

    @Test
    void reportKeysAreTheParameterNamesInTheirHistoricalOrder() {
        // the component order of the former record, i.e. the "config" object of train-report.json so far; new
        // parameters are appended
        List<String> keys = List.of("imageRoot", "peopleFile", "minImages", "maxIdentities", "outputDir", "depth",
                "widthMultiplier", "embeddingDim", "head", "m", "lambdaBase", "lambdaGamma", "lambdaPower",
                "lambdaMin", "epochs", "batchSize", "lr", "lrSchedule", "warmup", "momentum", "weightDecay", "flip",
                "seed", "threads", "valFraction", "scale", "margin", "cropMargin", "cacheDir", "checkpointEvery",
                "inputHeight", "inputWidth", "batchNorm", "failOnCorrupt", "align", "landmarksFile", "initFrom",
                "lambdaScheduleMode", "augmentation", "labelSmoothing");
        assertEquals(keys, List.copyOf(minimal().build().toMap().keySet()));
    }

    @Test
    void namedSettersLandInTheirOwnParameter() {
        TrainConfig c = minimal().lambdaGamma(0.2).lambdaPower(0.7).momentum(0.5).weightDecay(1e-3).lr(0.03)
                .inputHeight(64).inputWidth(48).build();
        Map<String, Object> m = c.toMap();
        assertEquals(0.2, m.get("lambdaGamma"));
        assertEquals(0.7, m.get("lambdaPower"));
        assertEquals(0.5, m.get("momentum"));
        assertEquals(1e-3, m.get("weightDecay"));
        assertEquals(0.03, m.get("lr"));
        assertEquals(64, c.inputHeight());
        assertEquals(48, c.inputWidth());
        assertEquals(c.toMap(), c.toBuilder().build().toMap());
    }

    @Test
    void defaultsAreTheTrainCommandsDefaults() {
        TrainConfig c = minimal().build();
        assertEquals(2, c.minImages());
        assertEquals(4, c.depth());
        assertEquals(0.5, c.widthMultiplier());
        assertEquals(512, c.embeddingDim());
        assertEquals("asoftmax", c.head());
        assertEquals(8, c.epochs());
        assertEquals(32, c.batchSize());
        assertEquals(0.01, c.lr());
        assertEquals(5e-4, c.weightDecay());
        assertEquals(0.1, c.valFraction());
        assertEquals(2, c.cropMargin());
        assertEquals(200, c.checkpointEvery());
        assertEquals(112, c.inputHeight());
        assertEquals(96, c.inputWidth());
        assertTrue(c.flip());
        assertTrue(Double.isNaN(c.scale()) && Double.isNaN(c.margin()));
    }

    @Test
    void invalidValuesNameTheParameter() {
        var e = assertThrows(IllegalArgumentException.class, () -> minimal().momentum(1.5).build());
        assertEquals("momentum must be in [0, 1), got 1.5", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> minimal().batchSize(1).build());
        assertEquals("batch size must be >= 2, got 1", e.getMessage());
        assertThrows(NullPointerException.class, () -> TrainConfig.builder().outputDir(Path.of("run")).build());
    }

    @Test
    void scaleAutoIsTheAdaCosFixedScaleOfTheClassCount() {
        // sqrt(2) * ln(1183) = 1.414214 * 7.075809 = 10.00670; sqrt(2) * ln(4037) = 1.414214 * 8.303257 = 11.74258
        TrainConfig arc = minimal().head("arcface").scaleAuto(true).build();
        assertEquals(10.00670, arc.buildHead(1184).scale(), 1e-5);
        assertEquals(11.74258, arc.buildHead(4038).scale(), 1e-5);
        assertEquals(0.5, ((io.spherekit.trainer.head.ScaledMarginHead) arc.buildHead(1184)).getM(), 0);
        TrainConfig am = minimal().head("amsoftmax").scaleAuto(true).build();
        assertEquals(10.00670, am.buildHead(1184).scale(), 1e-5);
        assertEquals("auto", arc.toMap().get("scale"));
        assertEquals(arc.toMap(), arc.toBuilder().build().toMap());
        // a run with the head's default s is not resumable as an auto-s run
        assertTrue(!arc.fingerprint().equals(minimal().head("arcface").build().fingerprint()));
        assertEquals(64.0, minimal().head("arcface").build().buildHead(1184).scale(), 0);

        var e = assertThrows(IllegalArgumentException.class, () -> arc.buildHead(2));
        assertEquals("--scale auto needs at least 3 identities, got 2", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> minimal().head("asoftmax").scaleAuto(true).build());
        assertEquals("--scale/--margin apply to amsoftmax and arcface only, not asoftmax", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> minimal().head("arcface").scale(30).scaleAuto(true).build());
        assertEquals("give --scale as a number or as auto, not both (got 30.0 and auto)", e.getMessage());
    }
}
