package io.spherekit.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.spherekit.core.Images;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.SphereKitException;
import io.spherekit.core.align.AlignmentTemplate;
import io.spherekit.core.align.FaceAligner;
import io.spherekit.core.align.SimilarityTransform;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** FaceEmbedder/Verifier with detect + align before embedding. */
class AlignedEmbeddingTest {

    static final Path FACE = FaceDetectorTest.LFW.resolve("lfw-deepfunneled/Tony_Blair/Tony_Blair_0001.jpg");
    static final Preprocessing SPHEREFACE_FULL =
            Preprocessing.fullImage(112, 96, 127.5f, 1 / 128f, Preprocessing.ChannelOrder.RGB);

    @TempDir
    Path dir;

    private Path model(int h, int w, Map<String, String> extra) throws Exception {
        Map<String, String> md = new HashMap<>(Preprocessing.fullImage(h, w, 127.5f, 1 / 128f,
                Preprocessing.ChannelOrder.RGB).toMetadata());
        md.putAll(extra);
        return TestModels.standard(dir.resolve("m" + h + "x" + w + md.hashCode() + ".onnx"),
                new Object[] {"n", 3, h, w}, h, w, 4, md);
    }

    private static FaceDetector detector() throws SphereKitException {
        return FaceDetector.builder().optProvider(Provider.CPU).optIntraOpThreads(1).build();
    }

    private static FaceEmbedder aligned(Path model) throws SphereKitException {
        return FaceEmbedder.builder().setModelPath(model).optProvider(Provider.CPU).optDetector(detector()).build();
    }

    @Test
    void twoBlankImagesDoNotMatch() throws Exception {
        Path m = model(112, 96, Map.of());
        BufferedImage grey1 = FaceEmbedderTest.solid(250, 250, new Color(128, 128, 128));
        BufferedImage grey2 = FaceEmbedderTest.solid(200, 160, new Color(128, 128, 128));
        // the fixed crop compares the two grey squares and finds them identical: cosine 1
        try (FaceEmbedder crop = FaceEmbedder.builder().setModelPath(m).optProvider(Provider.CPU).build()) {
            assertEquals(1.0, Verifier.withThreshold(crop, 0.3).verify(grey1, "a.png", grey2, "b.png").score(), 1e-6);
            assertNull(crop.detector());
        }
        // detect + align refuses them
        try (FaceEmbedder e = aligned(m)) {
            Verifier v = Verifier.withThreshold(e, 0.3);
            NoFaceException ex = assertThrows(NoFaceException.class, () -> v.verify(grey1, "a.png", grey2, "b.png"));
            assertTrue(ex.getMessage().startsWith("no face found in a.png"), ex.getMessage());
            BufferedImage face = Images.read(FACE);
            ex = assertThrows(NoFaceException.class, () -> v.verify(face, "face.jpg", grey2, "b.png"));
            assertTrue(ex.getMessage().startsWith("no face found in b.png"), ex.getMessage());
        }
    }

    @Test
    void theAlignedInputPutsTheFaceOnTheTemplate() throws Exception {
        Path m = model(112, 96, Map.of());
        BufferedImage img = Images.read(FACE);
        try (FaceEmbedder e = aligned(m); FaceDetector d = detector()) {
            assertEquals(AlignmentTemplate.SPHEREFACE, e.alignmentTemplate(), "template from the 112x96 input size");
            byte[] hwc = e.preprocess(img, "face");
            BufferedImage crop = new BufferedImage(96, 112, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 112; y++) {
                for (int x = 0; x < 96; x++) {
                    int o = (y * 96 + x) * 3;
                    crop.setRGB(x, y, (hwc[o] & 0xFF) << 16 | (hwc[o + 1] & 0xFF) << 8 | (hwc[o + 2] & 0xFF));
                }
            }
            // detecting again in the aligned 96x112 crop finds the points where the similarity transform from the
            // photo's points sends them (within detector noise), and near the template (a turned head's nose and
            // mouth sit off the template: the fit is least squares over the 4 points)
            double[][] orig = d.detectLargest(img, "photo").alignmentPoints();
            SimilarityTransform toTemplate = new FaceAligner(AlignmentTemplate.SPHEREFACE).transform(orig);
            double[][] p = d.detectLargest(crop, "aligned crop").alignmentPoints();
            double[][] t = AlignmentTemplate.SPHEREFACE.points();
            for (int k = 0; k < 4; k++) {
                double[] q = toTemplate.apply(orig[k][0], orig[k][1]);
                assertEquals(q[0], p[k][0], 3, "x of point " + k);
                assertEquals(q[1], p[k][1], 3, "y of point " + k);
                assertEquals(t[k][0], p[k][0], 8, "x of point " + k + " near the template");
                assertEquals(t[k][1], p[k][1], 8, "y of point " + k + " near the template");
            }
            double eyes = Math.hypot(p[1][0] - p[0][0], p[1][1] - p[0][1]);
            assertEquals(Math.hypot(t[1][0] - t[0][0], t[1][1] - t[0][1]), eyes, 4, "eye distance near the template's (least squares shrinks it for a turned head)");
            // and the embedding is the model's (linear, mean-pooling) function of that aligned crop
            double[] mean = new double[3];
            for (int i = 0; i < hwc.length; i++) {
                mean[i % 3] += ((hwc[i] & 0xFF) - 127.5) / 128 / (112 * 96);
            }
            double[] expected = TestModels.expected(mean[0], mean[1], mean[2], 4);
            float[] got = e.embed(img, "face");
            for (int j = 0; j < 4; j++) {
                assertEquals(expected[j], got[j], 1e-4);
            }
            float[][] batch = e.embed(List.of(img, img), List.of("a", "b"));
            assertEquals(got[0], batch[1][0], 1e-6);
        }
        try (FaceEmbedder crop = FaceEmbedder.builder().setModelPath(m).optProvider(Provider.CPU).build();
             FaceEmbedder e = aligned(m)) {
            assertNotEquals(crop.embed(img)[0], e.embed(img)[0], 1e-3, "aligned input differs from the crop");
        }
    }

    @Test
    void theTemplateComesFromMetadataOrIsExplicitAndMustFit() throws Exception {
        Path arc = model(112, 112, Map.of(Preprocessing.ALIGN_TEMPLATE_KEY, "arcface-112x112"));
        try (FaceEmbedder e = aligned(arc)) {
            assertEquals(AlignmentTemplate.ARCFACE, e.alignmentTemplate());
        }
        Path odd = model(64, 64, Map.of());
        SphereKitException ex = assertThrows(SphereKitException.class, () -> aligned(odd));
        assertTrue(ex.getMessage().contains("no alignment template for its 64x64 input"), ex.getMessage());
        Path sf = model(112, 96, Map.of());
        ex = assertThrows(SphereKitException.class, () -> FaceEmbedder.builder().setModelPath(sf)
                .optProvider(Provider.CPU).optDetector(detector()).optAlignmentTemplate(AlignmentTemplate.ARCFACE)
                .build());
        assertTrue(ex.getMessage().contains("arcface-112x112 is 112x112 but model"), ex.getMessage());
        Path bad = model(112, 96, Map.of(Preprocessing.ALIGN_TEMPLATE_KEY, "mystery"));
        ex = assertThrows(SphereKitException.class, () -> aligned(bad));
        assertTrue(ex.getMessage().contains("unknown alignment template 'mystery'"), ex.getMessage());
    }

    @Test
    void alignResizeRefusesATemplateOfAnotherSize() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SPHEREFACE_FULL.alignResize(new BufferedImage(10, 10, BufferedImage.TYPE_INT_RGB),
                        AlignmentTemplate.ARCFACE.points(), AlignmentTemplate.ARCFACE));
        assertEquals("alignment template arcface-112x112 is 112x112, the model input is 112x96", e.getMessage());
    }
}
