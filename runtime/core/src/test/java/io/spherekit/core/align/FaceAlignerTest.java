package io.spherekit.core.align;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.image.BufferedImage;
import org.junit.jupiter.api.Test;

class FaceAlignerTest {

    @Test
    void publishedTemplatesInContinuousCoordinates() {
        // wy1iu/sphereface's first point (30.2946, 51.6963) in pixel-index coordinates, +0.5 for pixel centres.
        assertArrayEquals(new double[] {30.7946, 52.1963}, AlignmentTemplate.SPHEREFACE.point(0), 1e-12);
        // mouth centre = mean of (33.5493, 92.3655) and (62.7299, 92.2041), + 0.5
        assertArrayEquals(new double[] {48.6396, 92.7848}, AlignmentTemplate.SPHEREFACE.point(3), 1e-12);
        // ArcFace = x + 8
        assertArrayEquals(new double[] {73.5318 + 0.5, 52.0014}, AlignmentTemplate.ARCFACE.point(1), 1e-12);
        assertEquals(AlignmentTemplate.SPHEREFACE, AlignmentTemplate.forInputSize(112, 96));
        assertEquals(AlignmentTemplate.ARCFACE, AlignmentTemplate.named("arcface-112x112"));
    }

    @Test
    void warpPutsAKnownPixelWhereTheTransformSays() {
        // A black 200x150 image with one white pixel at index (120, 40) (continuous centre (120.5, 40.5)).
        int sw = 200;
        int sh = 150;
        int[] argb = new int[sw * sh];
        argb[40 * sw + 120] = 0xFFFFFFFF;
        argb[41 * sw + 121] = 0xFF804020;
        // T: scale 1, rotate 90 degrees, translate (100, -60), so that source pixel centres land on output centres.
        SimilarityTransform t = SimilarityTransform.of(1, Math.PI / 2, 100, -60);
        // (120.5, 40.5) -> (-40.5 + 100, 120.5 - 60) = (59.5, 60.5): output pixel index (59, 60)
        double[] c = t.apply(120.5, 40.5);
        assertEquals(59.5, c[0], 1e-9);
        assertEquals(60.5, c[1], 1e-9);
        byte[] out = FaceAligner.warp(argb, sw, sh, t, 112, 96);
        int i = (60 * 96 + 59) * 3;
        assertEquals(255, out[i] & 0xFF);
        assertEquals(255, out[i + 2] & 0xFF);
        // (121.5, 41.5) -> (-41.5 + 100, 121.5 - 60) = (58.5, 61.5): pixel (58, 61), colour 0x804020
        int j = (61 * 96 + 58) * 3;
        assertEquals(0x80, out[j] & 0xFF);
        assertEquals(0x40, out[j + 1] & 0xFF);
        assertEquals(0x20, out[j + 2] & 0xFF);
        // every other output pixel is black (the rest of the source, or outside it)
        int lit = 0;
        for (byte v : out) {
            lit += v != 0 ? 1 : 0;
        }
        assertEquals(6, lit);
    }

    @Test
    void halfPixelShiftInterpolatesBilinearly() {
        int[] argb = new int[4 * 4];
        argb[1 * 4 + 1] = 0xFFC86400; // (200, 100, 0) at index (1, 1)
        // translate by +0.5: output pixel (1,1) centre (1.5,1.5) reads source (1.0,1.0) = between indices 0 and 1
        byte[] out = FaceAligner.warp(argb, 4, 4, new SimilarityTransform(1, 0, 0.5, 0.5), 4, 4);
        int i = (1 * 4 + 1) * 3;
        assertEquals(50, out[i] & 0xFF, "200 * 0.25");
        assertEquals(25, out[i + 1] & 0xFF, "100 * 0.25");
    }

    @Test
    void alignmentOfTheTemplatePointsIsTheIdentityCrop() {
        BufferedImage img = new BufferedImage(96, 112, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 112; y++) {
            for (int x = 0; x < 96; x++) {
                img.setRGB(x, y, (x * 2) << 16 | (y * 2) << 8 | ((x + y) & 0xFF));
            }
        }
        FaceAligner aligner = new FaceAligner(AlignmentTemplate.SPHEREFACE);
        byte[] out = aligner.align(img, AlignmentTemplate.SPHEREFACE.points());
        for (int y = 0; y < 112; y += 5) {
            for (int x = 0; x < 96; x += 3) {
                int rgb = img.getRGB(x, y);
                int o = (y * 96 + x) * 3;
                assertEquals((rgb >> 16) & 0xFF, out[o] & 0xFF, "R at " + x + "," + y);
                assertEquals((rgb >> 8) & 0xFF, out[o + 1] & 0xFF, "G at " + x + "," + y);
                assertEquals(rgb & 0xFF, out[o + 2] & 0xFF, "B at " + x + "," + y);
            }
        }
    }
}
