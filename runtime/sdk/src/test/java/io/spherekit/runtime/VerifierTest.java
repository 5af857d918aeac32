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
            Verification same = v.verify(FaceEmbedderTest.solid(20, 20, Color.RED),
                    FaceEmbedderTest.solid(40, 10, Color.RED));
            assertEquals(1.0, same.score(), 1e-6);
            assertTrue(same.same());
            // red vs blue embeddings, from the hand formula
            double[] a = TestModels.expected(FaceEmbedderTest.n(255), FaceEmbedderTest.n(0), FaceEmbedderTest.n(0), 4);
            double[] b = TestModels.expected(FaceEmbedderTest.n(0), FaceEmbedderTest.n(0), FaceEmbedderTest.n(255), 4);
            double dot = 0, na = 0, nb = 0;
            for (int i = 0; i < 4; i++) {
                dot += a[i] * b[i];
                na += a[i] * a[i];
                nb += b[i] * b[i];
            }
            double expected = dot / Math.sqrt(na * nb);
            Verification diff = Verifier.withThreshold(fe, 0.99).verify(FaceEmbedderTest.solid(8, 8, Color.RED),
                    FaceEmbedderTest.solid(8, 8, Color.BLUE));
            assertEquals(expected, diff.score(), 1e-5);
            assertFalse(diff.same());
            assertEquals(0.99, diff.threshold());
            SphereKitException e = assertThrows(SphereKitException.class, () -> Verifier.fromModelMetadata(fb));
            assertTrue(e.getMessage().contains("no metadata key spherekit.threshold"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Verifier.withThreshold(fe, 1.5));
            BufferedImage img = FaceEmbedderTest.solid(8, 8, Color.RED);
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
}
