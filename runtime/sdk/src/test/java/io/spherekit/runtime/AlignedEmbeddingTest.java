package io.spherekit.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.spherekit.core.Images;
import io.spherekit.core.ModelMetadata;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.SphereKitException;
import io.spherekit.core.align.AlignmentTemplate;
import io.spherekit.core.align.FaceAligner;
import io.spherekit.core.align.SimilarityTransform;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
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
        // the fixed crop refuses them too (a uniform crop has no face), instead of finding them identical
        try (FaceEmbedder crop = FaceEmbedder.builder().setModelPath(m).optProvider(Provider.CPU).build()) {
            Verifier v = Verifier.withThreshold(crop, 0.3);
            NoFaceException ex = assertThrows(NoFaceException.class, () -> v.verify(grey1, "a.png", grey2, "b.png"));
            assertTrue(ex.getMessage().startsWith("no face found in a.png: uniform image"), ex.getMessage());
            BufferedImage face = Images.read(FACE);
            ex = assertThrows(NoFaceException.class, () -> v.verify(face, "face.jpg", grey2, "b.png"));
            assertTrue(ex.getMessage().startsWith("no face found in b.png: uniform image"), ex.getMessage());
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
    void aModelTrainedOnAlignedFacesAlignsByDefault() throws Exception {
        // spherekit.input.align=detect (train --align detect): optDetectorIfModelAligned opens the detector
        Path aligned = model(112, 112, Map.of(ModelMetadata.Key.INPUT_ALIGN.key(), "detect",
                ModelMetadata.Key.INPUT_ALIGN_TEMPLATE.key(), "arcface-112x112"));
        try (FaceEmbedder e = FaceEmbedder.builder().setModelPath(aligned).optProvider(Provider.CPU)
                .optDetectorIfModelAligned(FaceDetector.builder().optProvider(Provider.CPU)).build()) {
            assertNotNull(e.detector());
            assertEquals(AlignmentTemplate.ARCFACE, e.alignmentTemplate());
            BufferedImage face = Images.read(FACE);
            FaceDetector.Face f = e.detector().detectLargest(face, "face.jpg");
            assertArrayEquals(e.alignFace(face, f), e.preprocess(face, "face.jpg"));
        }
        // a crop model (no key, or crop) keeps the fixed crop
        for (Map<String, String> extra : List.of(Map.<String, String>of(),
                Map.of(ModelMetadata.Key.INPUT_ALIGN.key(), "crop"))) {
            try (FaceEmbedder e = FaceEmbedder.builder().setModelPath(model(112, 96, extra)).optProvider(Provider.CPU)
                    .optDetectorIfModelAligned(FaceDetector.builder().optProvider(Provider.CPU)).build()) {
                assertNull(e.detector());
                BufferedImage face = Images.read(FACE);
                assertArrayEquals(e.preprocessing().cropResize(face), e.preprocess(face, "face.jpg"));
            }
        }
    }

    /**
     * The "Done when" case, model-independently: an LFW face rotated by 30 degrees and placed off-centre in a
     * 640x480 canvas gives, through detect + align, nearly the same model input as the original photo (so any
     * model's embeddings of the two agree; the demo model's cosine is in bench/results/20261201-align: 0.976 and
     * 0.987). The fixed crop of the canvas has nothing to do with the face.
     */
    @Test
    void aRotatedOffCentreFaceGivesTheSameAlignedInputAsItsOriginal() throws Exception {
        for (String name : List.of("Serena_Williams/Serena_Williams_0001.jpg", "Tony_Blair/Tony_Blair_0001.jpg")) {
            BufferedImage face = Images.read(FaceDetectorTest.LFW.resolve("lfw-deepfunneled").resolve(name));
            AffineTransform t = new AffineTransform();
            t.translate(60, 200);
            t.rotate(Math.toRadians(-30), 125, 125);
            BufferedImage canvas = new BufferedImage(640, 480, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = canvas.createGraphics();
            g.setColor(new Color(70, 90, 120));
            g.fillRect(0, 0, 640, 480);
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(face, t, null);
            g.dispose();
            try (FaceEmbedder e = aligned(model(112, 96, Map.of()))) {
                byte[] a = e.preprocess(face, name);
                byte[] b = e.preprocess(canvas, "canvas");
                double r = correlation(a, b);
                assertTrue(r > 0.9, name + ": aligned inputs correlate " + r);
                double crop = correlation(e.preprocessing().cropResize(face), e.preprocessing().cropResize(canvas));
                assertTrue(crop < 0.5, name + ": the fixed crops should not agree, correlation " + crop);
            }
        }
    }

    /** Pearson correlation of two byte arrays (as 0..255). */
    static double correlation(byte[] a, byte[] b) {
        double ma = 0;
        double mb = 0;
        for (int i = 0; i < a.length; i++) {
            ma += a[i] & 0xFF;
            mb += b[i] & 0xFF;
        }
        ma /= a.length;
        mb /= b.length;
        double sab = 0;
        double saa = 0;
        double sbb = 0;
        for (int i = 0; i < a.length; i++) {
            double x = (a[i] & 0xFF) - ma;
            double y = (b[i] & 0xFF) - mb;
            sab += x * y;
            saa += x * x;
            sbb += y * y;
        }
        return sab / Math.sqrt(saa * sbb);
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
