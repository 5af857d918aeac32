package io.spherekit.core;

import java.util.HashMap;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class PreprocessingTest {

    static BufferedImage noise(int w, int h, long seed) {
        Random r = new Random(seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, r.nextInt(0x1000000));
            }
        }
        return img;
    }

    @Test
    void identityResizeKeepsPixelsAndNormalises() {
        BufferedImage img = noise(96, 112, 1);
        Preprocessing p = Preprocessing.fullImage(112, 96, 127.5f, 1 / 128f, Preprocessing.ChannelOrder.RGB);
        byte[] hwc = p.cropResize(img);
        for (int y = 0; y < 112; y += 7) {
            for (int x = 0; x < 96; x += 5) {
                int rgb = img.getRGB(x, y);
                assertEquals((rgb >> 16) & 0xFF, hwc[(y * 96 + x) * 3] & 0xFF);
                assertEquals(rgb & 0xFF, hwc[(y * 96 + x) * 3 + 2] & 0xFF);
            }
        }
        float[] t = p.toTensor(img);
        int rgb = img.getRGB(5, 3);
        assertEquals((((rgb >> 8) & 0xFF) - 127.5f) / 128f, t[112 * 96 + 3 * 96 + 5], 0f, "G plane, (y=3,x=5)");
    }

    @Test
    void bilinearHalfPixelDownscaleAveragesPairs() {
        // 2x downscale on half-pixel centres samples exactly between two source pixels
        BufferedImage img = new BufferedImage(4, 2, BufferedImage.TYPE_INT_RGB);
        int[] v = {0, 100, 200, 50};
        for (int x = 0; x < 4; x++) {
            img.setRGB(x, 0, v[x] << 16);
            img.setRGB(x, 1, v[x] << 16);
        }
        Preprocessing p = Preprocessing.fullImage(1, 2, 0f, 1f, Preprocessing.ChannelOrder.RGB);
        byte[] out = p.cropResize(img);
        assertEquals(50, out[0] & 0xFF);
        assertEquals(125, out[3] & 0xFF);
    }

    @Test
    void bgrSwapsPlanes() {
        BufferedImage img = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, (10 << 16) | (20 << 8) | 30);
        float[] rgb = Preprocessing.fullImage(1, 1, 0f, 1f, Preprocessing.ChannelOrder.RGB).toTensor(img);
        float[] bgr = Preprocessing.fullImage(1, 1, 0f, 1f, Preprocessing.ChannelOrder.BGR).toTensor(img);
        assertArrayEquals(new float[]{10, 20, 30}, rgb);
        assertArrayEquals(new float[]{30, 20, 10}, bgr);
    }

    @Test
    void centreWindowOfMarginCropEqualsStandardCrop() {
        BufferedImage img = noise(250, 250, 2);
        Preprocessing p = Preprocessing.LFW_SPHEREFACE;
        Preprocessing big = p.withMargin(2);
        assertEquals(116, big.height());
        assertEquals(100, big.width());
        float[] a = new float[p.tensorSize()];
        float[] b = new float[p.tensorSize()];
        p.normalizeInto(p.cropResize(img), true, a, 0);
        p.normalizeWindowInto(big.cropResize(img), 116, 100, 2, 2, true, b, 0);
        assertArrayEquals(a, b, 0f);
        assertThrows(IllegalArgumentException.class,
                () -> p.normalizeWindowInto(new byte[116 * 100 * 3], 116, 100, 5, 0, false, b, 0));
    }

    @Test
    void metadataRoundTripsAndRejectsMalformedValues() {
        Map<String, String> m = Preprocessing.LFW_SPHEREFACE.toMetadata();
        Preprocessing back = Preprocessing.fromMetadata(m);
        assertEquals(112, back.height());
        assertEquals(96, back.width());
        assertEquals(0.268, back.cropLeft(), 1e-6);
        assertEquals(0.532, back.cropHeight(), 1e-6);
        assertNull(Preprocessing.fromMetadata(Map.of()));
        var bad = new HashMap<>(m);
        bad.put("spherekit.input.height", "tall");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Preprocessing.fromMetadata(bad));
        assertTrue(e.getMessage().contains("spherekit.input"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Preprocessing(0.9, 0, 0.5, 1, 112, 96, 127.5f, 1f, Preprocessing.ChannelOrder.RGB));
    }
}
