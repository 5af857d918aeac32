package io.spherekit.runtime;

import io.spherekit.core.SphereKitException;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.Similarity;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifierTest {

    @TempDir
    Path dir;

    @Test
    void cosineValues() {
        assertEquals(0.0, Similarity.cosine(new float[] {1, 0}, new float[] {0, 3}), 0);
        assertEquals(-1.0, Similarity.cosine(new float[] {1, 2}, new float[] {-2, -4}), 1e-15);
        assertEquals(32 / Math.sqrt(14 * 77), Similarity.cosine(new float[] {1, 2, 3}, new float[] {4, 5, 6}), 1e-15);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Similarity.cosine(new float[] {1, 2}, new float[] {1, 2, 3}));
        assertEquals("dimension mismatch: a has 2 values, b has 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Similarity.cosine(new float[] {1, 2}, new float[2]));
        assertEquals("vector b has zero norm", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Similarity.cosine(new float[0], new float[0]));
    }

    @Test
    void thresholdFromMetadataOrExplicit() throws Exception {
        Preprocessing pre = Preprocessing.fullImage(16, 16, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB);
        Map<String, String> md = new HashMap<>(pre.toMetadata());
        md.put(Verifier.THRESHOLD_KEY, "0.25");
        Path m = TestModels.standard(dir.resolve("m.onnx"), new Object[] {"n", 3, 16, 16}, 16, 16, 4, md);
        Path bare = TestModels.standard(dir.resolve("bare.onnx"), new Object[] {"n", 3, 16, 16}, 16, 16, 4,
                pre.toMetadata());
        try (FaceEmbedder fe = FaceEmbedder.builder().setModelPath(m).optProvider(Provider.CPU).build();
             FaceEmbedder fb = FaceEmbedder.builder().setModelPath(bare).optProvider(Provider.CPU).build()) {
            Verifier v = Verifier.fromModelMetadata(fe);
            assertEquals(0.25, v.threshold());
            assertEquals("model metadata spherekit.threshold", v.thresholdSource());
            BufferedImage red20 = TestModels.textured(20, 20, Color.RED);
            BufferedImage red40 = TestModels.textured(40, 10, Color.RED);
            Verification same = v.verify(red20, red40);
            assertEquals(cosine(TestModels.expectedOf(pre, red20, 4), TestModels.expectedOf(pre, red40, 4)),
                    same.score(), 1e-5);
            assertTrue(same.score() > 0.999, "two red textures: " + same.score());
            assertTrue(same.same());
            // red vs blue embeddings, from the hand formula
            BufferedImage red8 = TestModels.textured(8, 8, Color.RED);
            BufferedImage blue8 = TestModels.textured(8, 8, Color.BLUE);
            double expected = cosine(TestModels.expectedOf(pre, red8, 4), TestModels.expectedOf(pre, blue8, 4));
            Verification diff = Verifier.withThreshold(fe, 0.99).verify(red8, blue8);
            assertEquals(expected, diff.score(), 1e-5);
            // two blank images never match: both are refused as having no face
            NoFaceException blank = assertThrows(NoFaceException.class,
                    () -> v.verify(FaceEmbedderTest.solid(20, 20, Color.GRAY), "a.png",
                            FaceEmbedderTest.solid(40, 10, Color.GRAY), "b.png"));
            assertTrue(blank.getMessage().startsWith("no face found in a.png: uniform image"), blank.getMessage());
            assertFalse(diff.same());
            assertEquals(0.99, diff.threshold());
            SphereKitException e = assertThrows(SphereKitException.class, () -> Verifier.fromModelMetadata(fb));
            assertTrue(e.getMessage().contains("no metadata key spherekit.threshold"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Verifier.withThreshold(fe, 1.5));
            BufferedImage img = TestModels.textured(8, 8, Color.RED);
            NullPointerException n = assertThrows(NullPointerException.class, () -> v.verify(img, null));
            assertEquals("b (the second face) must not be null", n.getMessage());
            n = assertThrows(NullPointerException.class, () -> v.verify(null, img));
            assertEquals("a (the first face) must not be null", n.getMessage());
            n = assertThrows(NullPointerException.class, () -> v.verify(new float[] {1, 0}, null));
            assertEquals("b (the second face) must not be null", n.getMessage());
        }
    }

    @Test
    void aModelWithAMalformedThresholdIsRefusedAtLoadNamingKeyAndValue() throws Exception {
        Preprocessing pre = Preprocessing.fullImage(16, 16, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB);
        for (String bad : new String[] {"abc", "1.5"}) {
            Map<String, String> md = new HashMap<>(pre.toMetadata());
            md.put(Verifier.THRESHOLD_KEY, bad);
            Path m = TestModels.standard(dir.resolve("bad-" + bad + ".onnx"), new Object[] {"n", 3, 16, 16}, 16, 16, 4,
                    md);
            SphereKitException e = assertThrows(SphereKitException.class,
                    () -> FaceEmbedder.builder().setModelPath(m).optProvider(Provider.CPU).build());
            assertEquals("model " + m + " has malformed metadata: metadata spherekit.threshold='" + bad
                    + "' is not a cosine threshold in [-1,1]", e.getMessage());
        }
    }

    private static double cosine(double[] a, double[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }
}
