package io.spherekit.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl;
import io.spherekit.core.SphereKitException;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The serving options of {@link FaceEmbedder.Builder} (issue #16): graph optimisation level, intra-op spinning and
 * saving ONNX Runtime's optimised model. Every embedding is checked against the standard model's closed form
 * ({@link TestModels#expectedOf}), not against another run of the code under test.
 */
class SessionTuningTest {

    @TempDir
    Path dir;

    private Path model() throws Exception {
        return TestModels.standard(dir.resolve("tiny.onnx"), new Object[] {"batch", 3, FaceEmbedderTest.H,
            FaceEmbedderTest.W}, FaceEmbedderTest.H, FaceEmbedderTest.W, FaceEmbedderTest.D,
                FaceEmbedderTest.PRE.toMetadata());
    }

    private static FaceEmbedder.Builder builder(Path model) {
        return FaceEmbedder.builder().setModelPath(model).optProvider(Provider.CPU).optIntraOpThreads(1);
    }

    @Test
    void everyLevelWithAndWithoutSpinningGivesTheClosedFormEmbedding() throws Exception {
        Path m = model();
        BufferedImage img = TestModels.textured(40, 30, new Color(200, 60, 30));
        double[] want = FaceEmbedderTest.expectedOf(img);
        for (GraphOptimization level : GraphOptimization.values()) {
            for (Boolean spin : new Boolean[] {null, true, false}) {
                try (FaceEmbedder e = builder(m).optGraphOptimization(level).optIntraOpSpinning(spin).build()) {
                    FaceEmbedderTest.assertEmbedding(want, e.embed(img));
                }
            }
        }
    }

    @Test
    void theSavedOptimisedModelKeepsTheMetadataAndLoadsWithoutOptimisation() throws Exception {
        Path m = model();
        Path saved = dir.resolve("tiny-ort.onnx");
        BufferedImage img = TestModels.textured(40, 30, new Color(20, 160, 230));
        double[] want = FaceEmbedderTest.expectedOf(img);
        try (FaceEmbedder e = builder(m).optSaveOptimizedModel(saved).build()) {
            FaceEmbedderTest.assertEmbedding(want, e.embed(img));
        }
        OnnxMl.ModelProto p = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(saved)); // fails unless ONNX protobuf
        Map<String, String> props = new TreeMap<>();
        for (OnnxMl.StringStringEntryProto kv : p.getMetadataPropsList()) {
            props.put(kv.getKey(), kv.getValue());
        }
        assertEquals(new TreeMap<>(FaceEmbedderTest.PRE.toMetadata()), props);
        assertTrue(p.getGraph().getNodeCount() > 0, "a graph was saved");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("tiny-ort.onnx", "tiny.onnx"),
                    files.map(f -> f.getFileName().toString()).sorted().toList(), "no temporary file left");
        }
        try (FaceEmbedder e = builder(saved).optGraphOptimization(GraphOptimization.NONE).build()) {
            assertEquals(FaceEmbedderTest.PRE, e.preprocessing());
            FaceEmbedderTest.assertEmbedding(want, e.embed(img));
        }
    }

    @Test
    void anOrtFileNameIsRefusedBecauseOrtWouldReadItAsOrtFormat() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FaceEmbedder.builder().optSaveOptimizedModel(dir.resolve("m.ORT")));
        assertTrue(e.getMessage().contains("use a .onnx name"), e.getMessage());
    }

    @Test
    void savingIntoAMissingFolderFailsNamingItAndWritesNothing() throws Exception {
        Path m = model();
        Path target = dir.resolve("no-such-folder").resolve("opt.onnx");
        SphereKitException e = assertThrows(SphereKitException.class,
                () -> builder(m).optSaveOptimizedModel(target).build());
        assertTrue(e.getMessage().contains("the optimised model cannot be saved"), e.getMessage());
        assertTrue(e.getMessage().contains(target.getParent().toString()), e.getMessage());
        assertFalse(Files.exists(target.getParent()));
    }

    @Test
    void aBrokenModelFailsAsALoadErrorAndLeavesNoSavedFile() throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.onnx"), "not a model");
        Path target = dir.resolve("opt.onnx");
        SphereKitException e = assertThrows(SphereKitException.class,
                () -> builder(bad).optSaveOptimizedModel(target).build());
        assertTrue(e.getMessage().startsWith("model " + bad + " cannot be loaded"), e.getMessage());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("bad.onnx"), files.map(f -> f.getFileName().toString()).toList());
        }
    }
}
