package io.spherekit.runtime.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.spherekit.core.Preprocessing;
import io.spherekit.core.TestTimeFlip;
import io.spherekit.core.cli.Cli;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.Galleries;
import io.spherekit.runtime.Gallery;
import io.spherekit.runtime.ModelId;
import io.spherekit.runtime.TestModelsAccess;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exact gallery records its preprocessing (format version 2): written and read back, read from a version 1 file
 * written here byte by byte (the old layout, without the field), refused on a mismatch, shown by {@code gallery stats}.
 */
class GalleryPreprocessingTest {

    static final int D = 8;

    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    static Run run(Object command, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Cli.run(command, args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Reads a big-endian int32-length UTF-8 string. */
    static String string(DataInputStream in) throws IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void version2RecordsThePreprocessingInTheFile() throws IOException {
        String pre = "Preprocessing[crop=(0.2680,0.2080,0.4560,0.5320) -> 112x96 RGB, (p-127.5)*0.0078125];"
                + " align=detect; template=sphereface-112x96; flip=sum";
        Gallery g = Gallery.builder(3).optModelId("m@sha256:0123456789ab+flip=sum").optPreprocessing(pre)
                .add("alice", new float[] {3, 0, 0}).add("bob", new float[] {0, 0, 2}).build();
        Path f = dir.resolve("v2.gallery");
        g.save(f);
        // the header read here by hand, after the layout documented in Gallery
        try (DataInputStream in = new DataInputStream(Files.newInputStream(f))) {
            byte[] magic = new byte[8];
            in.readFully(magic);
            assertEquals("SKGALLRY", new String(magic, StandardCharsets.US_ASCII));
            assertEquals(2, in.readInt());
            assertEquals(3, in.readInt());
            assertEquals(2, in.readInt());
            assertEquals(2, in.readInt());
            assertEquals("m@sha256:0123456789ab+flip=sum", string(in));
            assertEquals(pre, string(in));
            assertEquals("alice", string(in));
        }
        Gallery h = Gallery.load(f, 3);
        assertEquals(2, h.formatVersion());
        assertEquals(pre, h.preprocessing());
        assertEquals(g.modelId(), h.modelId());
        assertArrayEquals(new float[] {1, 0, 0}, h.embedding(0));
        assertArrayEquals(new float[] {0, 0, 1}, h.embedding(1));
        // the same preprocessing passes, another one is refused naming the file and both values
        h.checkPreprocessing(f, pre);
        String other = pre.replace("flip=sum", "flip=concat");
        IOException e = assertThrows(IOException.class, () -> h.checkPreprocessing(f, other));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("'" + pre + "'")
                && e.getMessage().contains("'" + other + "'"), e.getMessage());
        // a declared preprocessing length beyond the limit is a corrupt file, naming it
        byte[] bytes = Files.readAllBytes(f);
        int preOffset = 8 + 16 + 4 + "m@sha256:0123456789ab+flip=sum".length();
        ByteBuffer.wrap(bytes).putInt(preOffset, 5000);
        Path bad = Files.write(dir.resolve("bad-pre.gallery"), bytes);
        IOException c = assertThrows(IOException.class, () -> Gallery.load(bad));
        assertTrue(c.getMessage().contains(bad.toString()) && c.getMessage().contains("preprocessing has length 5000"),
                c.getMessage());
    }

    /** A version 1 gallery, written here in the old layout (no preprocessing field) with its own CRC-32. */
    static Path writeVersion1(Path f, String modelId, String[] labels, int[] rowLabel, float[][] rows)
            throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(body);
        out.write("SKGALLRY".getBytes(StandardCharsets.US_ASCII));
        out.writeInt(1);
        out.writeInt(rows[0].length);
        out.writeInt(rows.length);
        out.writeInt(labels.length);
        byte[] m = modelId.getBytes(StandardCharsets.UTF_8);
        out.writeInt(m.length);
        out.write(m);
        for (String l : labels) {
            byte[] b = l.getBytes(StandardCharsets.UTF_8);
            out.writeInt(b.length);
            out.write(b);
        }
        for (int r = 0; r < rows.length; r++) {
            out.writeInt(rowLabel[r]);
            for (float v : rows[r]) {
                out.writeFloat(v);
            }
        }
        out.flush();
        CRC32 crc = new CRC32();
        crc.update(body.toByteArray());
        out.writeLong(crc.getValue());
        out.flush();
        return Files.write(f, body.toByteArray());
    }

    @Test
    void version1FilesAreStillReadWithoutAPreprocessing() throws IOException {
        float s = (float) (1 / Math.sqrt(2));
        Path f = writeVersion1(dir.resolve("old.gallery"), "old.onnx@sha256:aaaaaaaaaaaa",
                new String[] {"ann", "ben"}, new int[] {0, 1, 0},
                new float[][] {{1, 0, 0, 0}, {0, 1, 0, 0}, {s, 0, s, 0}});
        Gallery g = Gallery.load(f, 4);
        assertEquals(1, g.formatVersion());
        assertEquals("", g.preprocessing());
        assertEquals("old.onnx@sha256:aaaaaaaaaaaa", g.modelId());
        assertEquals(3, g.size());
        assertEquals("ann", g.label(2));
        assertArrayEquals(new float[] {s, 0, s, 0}, g.embedding(2));
        g.checkPreprocessing(f, "anything"); // not recorded: not checked
        Run stats = run(new GalleryCommand(), "stats", "--gallery", f.toString());
        assertEquals(0, stats.code(), stats.err());
        assertTrue(stats.out().contains("format_version: 1\n"), stats.out());
        assertTrue(stats.out().contains("preprocessing: (not recorded: format version 1 file"), stats.out());
        // removing an identity rewrites it in version 2, still without a preprocessing (not guessed)
        Run rm = run(new GalleryCommand(), "remove", "--gallery", f.toString(), "ben");
        assertEquals(0, rm.code(), rm.err());
        assertEquals(2, ByteBuffer.wrap(Files.readAllBytes(f)).getInt(8));
        Gallery h = Gallery.load(f, 4);
        assertEquals(2, h.formatVersion());
        assertEquals("", h.preprocessing());
        assertEquals(2, h.size());
        // the versions before and after are the only ones read
        byte[] v3 = Files.readAllBytes(f);
        ByteBuffer.wrap(v3).putInt(8, 3);
        Path three = Files.write(dir.resolve("v3.gallery"), v3);
        IOException e = assertThrows(IOException.class, () -> Gallery.load(three));
        assertTrue(e.getMessage().contains("unsupported format version 3 (this reader supports 1 and 2)"),
                e.getMessage());
    }

    @Test
    void galleryBuildRecordsItStatsShowsItAndSearchRefusesAnotherPreprocessing() throws Exception {
        Path model = TestModelsAccess.linear(dir.resolve("lin.onnx"), 16, 12, D, 7, Map.of());
        Path root = dir.resolve("people");
        for (int i = 0; i < 3; i++) { // random pixels at the input size, one image per person
            Path p = root.resolve("p" + i).resolve("a.png");
            Files.createDirectories(p.getParent());
            java.util.Random r = new java.util.Random(100 + i);
            BufferedImage img = new BufferedImage(12, 16, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 16; y++) {
                for (int x = 0; x < 12; x++) {
                    img.setRGB(x, y, r.nextInt(1 << 24));
                }
            }
            ImageIO.write(img, "png", p.toFile());
        }
        String[] pre = {"--input-size", "16x12", "--mean", "127.5", "--scale", "0.0078125", "--channel-order", "RGB"};
        Path g = dir.resolve("g.gallery");
        Run b = run(new GalleryCommand(), cat(new String[] {"build", "--model", model.toString(), "--root",
            root.toString(), "--output", g.toString(), "--flip", "sum"}, pre));
        assertEquals(0, b.code(), b.err());
        String expected;
        String id;
        try (FaceEmbedder e = FaceEmbedder.builder().setModelPath(model).optFlip(TestTimeFlip.SUM)
                .optPreprocessing(Preprocessing.fullImage(16, 12, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB))
                .build()) {
            expected = Galleries.preprocessingOf(e);
            id = ModelId.of(e);
        }
        assertEquals("Preprocessing[crop=(0.0000,0.0000,1.0000,1.0000) -> 16x12 RGB, (p-127.5)*0.0078125];"
                + " align=crop; flip=sum", expected);
        Gallery loaded = Gallery.load(g, D);
        assertEquals(expected, loaded.preprocessing());
        assertTrue(loaded.modelId().endsWith("+flip=sum"), loaded.modelId());
        assertEquals(id, loaded.modelId());
        Run stats = run(new GalleryCommand(), "stats", "--gallery", g.toString());
        assertEquals(0, stats.code(), stats.err());
        assertTrue(stats.out().contains("format_version: 2\n"), stats.out());
        assertTrue(stats.out().contains("preprocessing: " + expected + "\n"), stats.out());
        Path query = root.resolve("p1/a.png");
        Run ok = run(new GalleryCommand(), cat(new String[] {"search", "--model", model.toString(), "--gallery",
            g.toString(), "--flip", "sum", "--k", "1", query.toString()}, pre));
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().startsWith("1\t1.000000\tp1"), ok.out());
        // the same model and flip with another mean: refused, naming the file and both preprocessings
        String[] otherMean = pre.clone();
        otherMean[3] = "100";
        Run bad = run(new GalleryCommand(), cat(new String[] {"search", "--model", model.toString(), "--gallery",
            g.toString(), "--flip", "sum", query.toString()}, otherMean));
        assertEquals(Cli.FAILURE, bad.code(), bad.out());
        assertTrue(bad.err().contains("gallery " + g + " was built with preprocessing '" + expected + "', not '"
                + expected.replace("(p-127.5)", "(p-100.0)") + "'"), bad.err());
        // adding with another preprocessing is refused too, and leaves the file as it was
        byte[] before = Files.readAllBytes(g);
        Run add = run(new GalleryCommand(), cat(new String[] {"add", "--model", model.toString(), "--gallery",
            g.toString(), "--flip", "sum", "--label", "p9", query.toString()}, otherMean));
        assertEquals(Cli.FAILURE, add.code(), add.out());
        assertArrayEquals(before, Files.readAllBytes(g));
    }

    @Test
    void preprocessingsRecordedBeforeTemplateAndFlipStillMatch() {
        String crop = "Preprocessing[crop=(0.0000,0.0000,1.0000,1.0000) -> 16x12 RGB, (p-127.5)*0.0078125]";
        // an HNSW index written before the template / flip parts: the same preprocessing without them matches
        assertTrue(Galleries.samePreprocessing(crop + "; align=detect", crop
                + "; align=detect; template=sphereface-112x96"));
        assertTrue(Galleries.samePreprocessing(crop + "; align=crop", crop + "; align=crop; flip=sum"));
        assertFalse(Galleries.samePreprocessing(crop + "; align=crop", crop + "; align=detect; template=x"));
        // written with the parts: they must match
        assertFalse(Galleries.samePreprocessing(crop + "; align=detect; template=arcface-112x112",
                crop + "; align=detect; template=sphereface-112x96"));
        assertFalse(Galleries.samePreprocessing(crop + "; align=crop; flip=sum", crop + "; align=crop"));
        assertFalse(Galleries.samePreprocessing(crop.replace("127.5", "100.0") + "; align=crop", crop
                + "; align=crop"));
    }

    static String[] cat(String[] a, String... b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
