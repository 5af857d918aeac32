package io.spherekit.trainer;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link TrainConfig}: named construction, the report's key order, validation. */
class TrainConfigTest {

    private static TrainConfig.Builder minimal() {
        return TrainConfig.builder().imageRoot(Path.of("faces")).outputDir(Path.of("run"));
    }

    @Test
    void reportKeysAreTheParameterNamesInTheirHistoricalOrder() {
        // the component order of the former record, i.e. the "config" object of train-report.json so far
        List<String> keys = List.of("imageRoot", "peopleFile", "minImages", "maxIdentities", "outputDir", "depth",
                "widthMultiplier", "embeddingDim", "head", "m", "lambdaBase", "lambdaGamma", "lambdaPower",
                "lambdaMin", "epochs", "batchSize", "lr", "lrSchedule", "warmup", "momentum", "weightDecay", "flip",
                "seed", "threads", "valFraction", "scale", "margin", "cropMargin", "cacheDir", "checkpointEvery",
                "inputHeight", "inputWidth", "batchNorm", "failOnCorrupt", "align", "landmarksFile", "initFrom",
                "lambdaScheduleMode");
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
}
