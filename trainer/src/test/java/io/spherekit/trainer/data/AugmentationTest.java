package io.spherekit.trainer.data;

import io.spherekit.core.Preprocessing;
import io.spherekit.trainer.data.Augmentation.Draw;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Augmentation}: the identity draw is the plain crop window, the geometry is the documented affine map
 * (checked on images that are linear ramps, which bilinear sampling reproduces exactly), colour jitter is
 * torchvision's formulas, and random erasing stays inside Zhong et al.'s area and aspect bounds.
 */
class AugmentationTest {
    static final int H = 112, W = 96;
    static final Preprocessing PRE = Preprocessing.LFW_SPHEREFACE;

    static byte[] randomImage(Random r, int h, int w) {
        byte[] b = new byte[h * w * 3];
        r.nextBytes(b);
        return b;
    }

    @Test
    void theIdentityDrawIsThePlainCropWindowBitForBit() {
        Random r = new Random(7);
        int m = 4;
        byte[] img = randomImage(r, H + 2 * m, W + 2 * m);
        for (int t = 0; t < 6; t++) {
            boolean flip = t % 2 == 1;
            int dy = r.nextInt(2 * m + 1) - m, dx = r.nextInt(2 * m + 1) - m;
            float[] want = new float[PRE.tensorSize()];
            PRE.normalizeWindowInto(img, H + 2 * m, W + 2 * m, m + dy, m + dx, flip, want, 0);
            float[] got = new float[PRE.tensorSize()];
            Augmentation.render(img, H + 2 * m, W + 2 * m, PRE, Draw.window(flip, dy, dx), got, 0);
            assertArrayEquals(want, got, "flip " + flip + " dy " + dy + " dx " + dx);
        }
    }

    @Test
    void aHalfTurnIsTheCentreWindowMirroredInBothAxes() {
        Random r = new Random(8);
        int m = 2;
        byte[] img = randomImage(r, H + 2 * m, W + 2 * m);
        float[] plain = new float[PRE.tensorSize()];
        PRE.normalizeWindowInto(img, H + 2 * m, W + 2 * m, m, m, false, plain, 0);
        float[] turned = new float[PRE.tensorSize()];
        Augmentation.render(img, H + 2 * m, W + 2 * m, PRE,
                new Draw(false, 0, 0, 1, Math.PI, 1, 1, 1, 0, 0, 0, 0, 0), turned, 0);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < H; y++) {
                for (int x = 0; x < W; x++) {
                    assertEquals(plain[c * H * W + (H - 1 - y) * W + (W - 1 - x)], turned[c * H * W + y * W + x], 1e-4,
                            "c" + c + " (" + y + "," + x + ")");
                }
            }
        }
    }

    /** An image whose R is 2·col + 10, G is row + 5 and B is col + row + 1 (all within 0..255 at 128×112). */
    static byte[] ramp(int h, int w) {
        byte[] b = new byte[h * w * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int o = (y * w + x) * 3;
                b[o] = (byte) (2 * x + 10);
                b[o + 1] = (byte) (y + 5);
                b[o + 2] = (byte) (x + y + 1);
            }
        }
        return b;
    }

    @Test
    void zoomAndRotationFollowTheDocumentedAffineMap() {
        int m = 8, sh = H + 2 * m, sw = W + 2 * m; // 128 x 112
        byte[] img = ramp(sh, sw);
        double zoom = 1.15, angle = Math.toRadians(7), dy = 2, dx = -3;
        float[] out = new float[PRE.tensorSize()];
        Augmentation.render(img, sh, sw, PRE, new Draw(false, 2, -3, zoom, angle, 1, 1, 1, 0, 0, 0, 0, 0), out, 0);
        int plane = H * W;
        for (int y = 0; y < H; y += 5) {
            for (int x = 0; x < W; x += 5) {
                // source point: centre of the stored crop + offset + R(θ)·(p − centre of the window) / s
                double px = x - (W - 1) / 2.0, py = y - (H - 1) / 2.0;
                double fx = (sw - 1) / 2.0 + dx + (Math.cos(angle) * px - Math.sin(angle) * py) / zoom;
                double fy = (sh - 1) / 2.0 + dy + (Math.sin(angle) * px + Math.cos(angle) * py) / zoom;
                // with zoom > 1 every sample is inside the stored crop, where bilinear reproduces a ramp exactly
                assertEquals((2 * fx + 10 - 127.5) / 128, out[y * W + x], 1e-5, "R at " + y + "," + x);
                assertEquals((fy + 5 - 127.5) / 128, out[plane + y * W + x], 1e-5, "G at " + y + "," + x);
                assertEquals((fx + fy + 1 - 127.5) / 128, out[2 * plane + y * W + x], 1e-5, "B at " + y + "," + x);
            }
        }
    }

    @Test
    void colourJitterIsTorchvisionsBrightnessContrastSaturation() {
        float[] px = {100, 150, 200, 50, 60, 70};
        Augmentation.colour(px, 1.1, 1, 1);
        assertArrayEquals(new float[]{110, 165, 220, 55, 66, 77}, px, 1e-4f);
        float[] sat = {100, 150, 200};
        Augmentation.colour(sat, 1, 1, 0); // saturation 0: the pixel's luma, 0.299·100 + 0.587·150 + 0.114·200
        assertArrayEquals(new float[]{140.75f, 140.75f, 140.75f}, sat, 1e-4f);
        float[] con = {100, 150, 200, 0, 0, 0};
        Augmentation.colour(con, 1, 0.5, 1); // mean luma (140.75 + 0) / 2 = 70.375; v → 70.375 + 0.5·(v − 70.375)
        assertArrayEquals(new float[]{85.1875f, 110.1875f, 135.1875f, 35.1875f, 35.1875f, 35.1875f}, con, 1e-4f);
        float[] clip = {250, 10, 128};
        Augmentation.colour(clip, 1.5, 1, 1);
        assertArrayEquals(new float[]{255, 15, 192}, clip, 1e-4f);
    }

    @Test
    void randomErasingStaysInsideZhongEtAlsBoundsAndOnlyChangesItsRectangle() {
        Augmentation aug = new Augmentation(0, 0, 0, 1);
        Random rng = new Random(9);
        int m = 2;
        byte[] img = randomImage(new Random(10), H + 2 * m, W + 2 * m);
        int erased = 0;
        for (int t = 0; t < 200; t++) {
            Draw d = aug.draw(rng, false, 0, 0, H, W);
            if (d.eraseHeight() == 0) {
                continue;
            }
            erased++;
            double area = (double) d.eraseHeight() * d.eraseWidth() / (H * W);
            assertTrue(area >= 0.015 && area <= 0.41, "area fraction " + area);
            double ratio = (double) d.eraseHeight() / d.eraseWidth();
            assertTrue(ratio >= 0.25 && ratio <= 4.0, "aspect " + ratio);
            assertTrue(d.eraseTop() >= 0 && d.eraseTop() + d.eraseHeight() <= H);
            assertTrue(d.eraseLeft() >= 0 && d.eraseLeft() + d.eraseWidth() <= W);
            if (t < 5) {
                float[] plain = new float[PRE.tensorSize()];
                Augmentation.render(img, H + 2 * m, W + 2 * m, PRE, Draw.window(false, 0, 0), plain, 0);
                float[] out = new float[PRE.tensorSize()];
                Augmentation.render(img, H + 2 * m, W + 2 * m, PRE, d, out, 0);
                int changed = 0;
                for (int c = 0; c < 3; c++) {
                    for (int y = 0; y < H; y++) {
                        for (int x = 0; x < W; x++) {
                            int i = c * H * W + y * W + x;
                            boolean inside = y >= d.eraseTop() && y < d.eraseTop() + d.eraseHeight()
                                    && x >= d.eraseLeft() && x < d.eraseLeft() + d.eraseWidth();
                            if (!inside) {
                                assertEquals(plain[i], out[i], "outside the rectangle at " + y + "," + x);
                            } else if (plain[i] != out[i]) {
                                changed++;
                            }
                            assertTrue(out[i] >= -127.5f / 128 && out[i] <= 127.5f / 128);
                        }
                    }
                }
                // random fill: almost every value in the rectangle differs from the original (1/256 chance each)
                assertTrue(changed > 0.9 * 3 * d.eraseHeight() * d.eraseWidth(), "changed " + changed);
            }
        }
        assertEquals(200, erased, "p = 1 erases every image");
        Random rng2 = new Random(11);
        Augmentation half = new Augmentation(0, 0, 0, 0.5);
        int n = 0;
        for (int t = 0; t < 2000; t++) {
            n += half.draw(rng2, false, 0, 0, H, W).eraseHeight() > 0 ? 1 : 0;
        }
        assertEquals(1000, n, 80, "p = 0.5 erases about half (binomial sd 22)");
    }

    @Test
    void jitterDrawsStayInTheirRanges() {
        Augmentation aug = new Augmentation(0.1, 10, 0.2, 0);
        Random rng = new Random(12);
        double maxAngle = 0, minZoom = 2, maxZoom = 0;
        for (int t = 0; t < 1000; t++) {
            Draw d = aug.draw(rng, false, 0, 0, H, W);
            assertTrue(d.zoom() >= 0.9 && d.zoom() <= 1.1, "zoom " + d.zoom());
            assertTrue(Math.abs(d.angle()) <= Math.toRadians(10) + 1e-12, "angle " + d.angle());
            for (double f : new double[]{d.brightness(), d.contrast(), d.saturation()}) {
                assertTrue(f >= 0.8 && f <= 1.2, "colour factor " + f);
            }
            assertEquals(0, d.eraseHeight());
            maxAngle = Math.max(maxAngle, Math.abs(d.angle()));
            minZoom = Math.min(minZoom, d.zoom());
            maxZoom = Math.max(maxZoom, d.zoom());
        }
        assertTrue(maxAngle > Math.toRadians(9.5) && minZoom < 0.91 && maxZoom > 1.09, "the ranges are used");
    }

    @Test
    void specsParseRoundTripAndBadOnesNameTheProblem() {
        Augmentation a = Augmentation.parse(" rotate=10, scale=0.1 ,erase=0.5,color=0.2");
        assertEquals(new Augmentation(0.1, 10, 0.2, 0.5), a);
        assertEquals("scale=0.1,rotate=10,color=0.2,erase=0.5", a.spec());
        assertEquals(a, Augmentation.parse(a.spec()));
        assertEquals(Augmentation.NONE, Augmentation.parse("none"));
        assertEquals("none", Augmentation.NONE.spec());
        assertTrue(Augmentation.NONE.isNone());
        assertEquals("rotate=5", Augmentation.parse("rotate=5").spec());
        assertNotEquals(Augmentation.NONE, Augmentation.parse("erase=0.1"));
        String[][] bad = {
                {"", "augmentation is empty"},
                {"rotate", "augmentation 'rotate' is not key=value"},
                {"blur=2", "unknown augmentation 'blur'"},
                {"scale=x", "augmentation scale=x is not a number"},
                {"scale=0.6", "augmentation scale must be in [0, 0.5], got 0.6"},
                {"erase=-0.1", "augmentation erase must be in [0, 1], got -0.1"},
                {"color=NaN", "augmentation color must be in [0, 1], got NaN"},
                {"rotate=1,rotate=2", "augmentation rotate given twice"},
        };
        for (String[] b : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Augmentation.parse(b[0]));
            assertTrue(e.getMessage().startsWith(b[1]), b[0] + ": " + e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Augmentation.render(new byte[10], 112, 96, PRE,
                Draw.window(false, 0, 0), new float[PRE.tensorSize()], 0));
    }
}
