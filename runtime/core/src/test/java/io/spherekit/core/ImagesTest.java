package io.spherekit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImagesTest {

    @TempDir
    Path dir;

    static byte[] encode(BufferedImage img, String format) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(img, format, bos), "no writer for " + format);
        return bos.toByteArray();
    }

    static BufferedImage noise(int w, int h) {
        Random r = new Random(42);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, r.nextInt(0x1000000));
            }
        }
        return img;
    }

    private String error(Path p) {
        IOException e = assertThrows(IOException.class, () -> Images.read(p));
        assertTrue(e.getMessage().startsWith("cannot read image " + p + ": "), e.getMessage());
        return e.getMessage();
    }

    @Test
    void readsJpegPngAndPnm() throws IOException {
        BufferedImage src = noise(30, 20);
        Path jpg = Files.write(dir.resolve("a.jpg"), encode(src, "jpg"));
        Path png = Files.write(dir.resolve("a.png"), encode(src, "png"));
        Path pgm = Files.writeString(dir.resolve("a.pgm"), "P2\n3 2\n255\n0 128 255\n10 20 30\n");
        BufferedImage j = Images.read(jpg);
        assertEquals(30, j.getWidth());
        assertEquals(20, j.getHeight());
        BufferedImage p = Images.read(png);
        assertEquals(src.getRGB(7, 5), p.getRGB(7, 5));
        BufferedImage g = Images.read(pgm);
        assertEquals(3, g.getWidth());
        // grey values are replicated, not gamma-converted (Java's linear grey would read 128 back as 188)
        assertEquals(0xFF808080, g.getRGB(1, 0));
        assertEquals(0xFF141414, g.getRGB(1, 1));
        BufferedImage grey = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
        grey.getRaster().setSample(2, 3, 0, 100);
        BufferedImage gj = Images.read(Files.write(dir.resolve("g.png"), encode(grey, "png")));
        assertEquals(0xFF646464, gj.getRGB(2, 3));
    }

    @Test
    void badInputsGiveClearErrors() throws IOException {
        assertTrue(error(dir.resolve("missing.jpg")).endsWith("file does not exist"));
        assertTrue(error(Files.createDirectory(dir.resolve("d.jpg"))).endsWith("it is a directory"));
        assertTrue(error(Files.write(dir.resolve("empty.jpg"), new byte[0])).endsWith("file is empty (0 bytes)"));
        String m = error(Files.writeString(dir.resolve("text.jpg"), "hello, I am not an image\n"));
        assertTrue(m.contains("not an image in a supported format"), m);
        byte[] jpg = encode(noise(64, 64), "jpg");
        m = error(Files.write(dir.resolve("trunc.jpg"), Arrays.copyOf(jpg, jpg.length / 2)));
        assertTrue(m.contains("truncated"), m);
        byte[] png = encode(noise(64, 64), "png");
        m = error(Files.write(dir.resolve("trunc.png"), Arrays.copyOf(png, png.length / 2)));
        assertTrue(m.contains("truncated"), m);
        m = error(Files.write(dir.resolve("huge.png"), pngHeader(100_000, 100_000)));
        assertTrue(m.contains("too large, header declares 100000x100000 = 10000.0 MP, limit is 50.0 MP"), m);
        Path small = Files.write(dir.resolve("small.png"), png);
        IOException e = assertThrows(IOException.class, () -> Images.read(small, 64 * 63));
        assertTrue(e.getMessage().contains("too large"), e.getMessage());
        assertEquals(64, Images.read(small, 64 * 64).getWidth());
        assertThrows(IllegalArgumentException.class, () -> Images.read(small, 0));
    }

    /** A PNG signature and IHDR chunk only (valid CRC), declaring w × h RGB pixels. */
    static byte[] pngHeader(int w, int h) {
        ByteBuffer ihdr = ByteBuffer.allocate(17);
        ihdr.put("IHDR".getBytes(StandardCharsets.US_ASCII)).putInt(w).putInt(h)
                .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update(ihdr.array());
        ByteBuffer b = ByteBuffer.allocate(8 + 4 + 17 + 4);
        b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        b.putInt(13).put(ihdr.array()).putInt((int) crc.getValue());
        return b.array();
    }

    // Quadrants of the stored image: TL red, TR blue, BL green, BR white.
    static final Color[] Q = {Color.RED, Color.BLUE, Color.GREEN, Color.WHITE};

    static BufferedImage quadrants() {
        BufferedImage img = new BufferedImage(64, 32, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        for (int q = 0; q < 4; q++) {
            g.setColor(Q[q]);
            g.fillRect((q % 2) * 32, (q / 2) * 16, 32, 16);
        }
        g.dispose();
        return img;
    }

    /** JPEG with an APP1 Exif segment (big-endian TIFF, IFD0 with one Orientation entry) after APP0. */
    static byte[] jpegWithOrientation(int orientation) throws IOException {
        byte[] jpg = encode(quadrants(), "jpg");
        ByteBuffer tiff = ByteBuffer.allocate(6 + 8 + 2 + 12 + 4);
        tiff.put("Exif\0\0".getBytes(StandardCharsets.US_ASCII));
        tiff.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(8);
        tiff.putShort((short) 1);
        tiff.putShort((short) 0x0112).putShort((short) 3).putInt(1).putShort((short) orientation).putShort((short) 0);
        tiff.putInt(0);
        byte[] payload = tiff.array();
        int app0End = 4 + (((jpg[4] & 0xFF) << 8) | (jpg[5] & 0xFF)); // SOI (2) + APP0 marker (2) + length
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(jpg, 0, app0End);
        out.write(0xFF);
        out.write(0xE1);
        out.write((payload.length + 2) >> 8);
        out.write((payload.length + 2) & 0xFF);
        out.write(payload);
        out.write(jpg, app0End, jpg.length - app0End);
        return out.toByteArray();
    }

    static int nearest(int rgb) {
        int best = -1;
        double bd = Double.MAX_VALUE;
        for (int q = 0; q < 4; q++) {
            double d = Math.pow(((rgb >> 16) & 255) - Q[q].getRed(), 2) + Math.pow(((rgb >> 8) & 255) - Q[q].getGreen(), 2)
                    + Math.pow((rgb & 255) - Q[q].getBlue(), 2);
            if (d < bd) {
                bd = d;
                best = q;
            }
        }
        return best;
    }

    @Test
    void exifOrientationIsApplied() throws IOException {
        // Displayed quadrants (TL, TR, BL, BR) as indices into Q, from the EXIF 2.3 definitions of tag 0x0112.
        int[][] layout = {
            null,
            {0, 1, 2, 3}, // 1 normal
            {1, 0, 3, 2}, // 2 mirror horizontal
            {3, 2, 1, 0}, // 3 rotate 180
            {2, 3, 0, 1}, // 4 mirror vertical
            {0, 2, 1, 3}, // 5 transpose
            {2, 0, 3, 1}, // 6 rotate 90 CW
            {3, 1, 2, 0}, // 7 transverse
            {1, 3, 0, 2}, // 8 rotate 90 CCW
        };
        for (int o = 1; o <= 8; o++) {
            Path p = Files.write(dir.resolve("o" + o + ".jpg"), jpegWithOrientation(o));
            BufferedImage img = Images.read(p);
            int w = img.getWidth();
            int h = img.getHeight();
            assertEquals(o >= 5 ? 32 : 64, w, "width, orientation " + o);
            assertEquals(o >= 5 ? 64 : 32, h, "height, orientation " + o);
            int[] got = {
                nearest(img.getRGB(w / 4, h / 4)), nearest(img.getRGB(3 * w / 4, h / 4)),
                nearest(img.getRGB(w / 4, 3 * h / 4)), nearest(img.getRGB(3 * w / 4, 3 * h / 4))};
            assertEquals(Arrays.toString(layout[o]), Arrays.toString(got), "orientation " + o);
        }
    }
}
