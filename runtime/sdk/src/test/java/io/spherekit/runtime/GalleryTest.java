package io.spherekit.runtime;

import io.spherekit.core.ident.Identifier;
import io.spherekit.core.Similarity;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GalleryTest {

    @TempDir
    Path dir;

    /** alice ≈ x axis (two views), bob = y axis, carol = (1,1,0)/√2, dave = −x. */
    static Gallery handMade() {
        Map<String, List<float[]>> m = new LinkedHashMap<>();
        m.put("alice", List.of(new float[] {2, 0, 0}, new float[] {3, 0.3f, 0}));
        m.put("bob", List.of(new float[] {0, 5, 0}));
        m.put("carol", List.of(new float[] {1, 1, 0}));
        m.put("dave", List.of(new float[] {-7, 0, 0}));
        return Gallery.of(m, "hand@sha256:000000000000");
    }

    @Test
    void topKOrderAndScores() {
        Gallery g = handMade();
        assertEquals(3, g.dim());
        assertEquals(5, g.size());
        assertEquals(List.of("alice", "bob", "carol", "dave"), g.labels());
        // query along x: alice 1 (first view), carol 1/√2, bob 0, dave −1
        List<Identifier.Match> r = g.search(new float[] {10, 0, 0}, 4);
        assertEquals(List.of("alice", "carol", "bob", "dave"), r.stream().map(Identifier.Match::label).toList());
        assertEquals(1.0, r.get(0).score(), 1e-7);
        assertEquals(1 / Math.sqrt(2), r.get(1).score(), 1e-7);
        assertEquals(0.0, r.get(2).score(), 1e-7);
        assertEquals(-1.0, r.get(3).score(), 1e-7);
        // k smaller / larger than the number of identities
        assertEquals(List.of("alice", "carol"), g.search(new float[] {1, 0, 0}, 2).stream()
                .map(Identifier.Match::label).toList());
        assertEquals(4, g.search(new float[] {1, 0, 0}, 100).size());
        // the best of alice's two views counts: query near the second view
        float[] q = {3, 0.3f, 0};
        Identifier.Match top = g.search(q, 1).get(0);
        assertEquals("alice", top.label());
        assertEquals(1.0, top.score(), 1e-7);
        // scores agree with Similarity.cosine on the raw vectors
        float[] y = {0.2f, 1, 0.1f};
        for (Identifier.Match m : g.search(y, 4)) {
            if (m.label().equals("bob")) {
                assertEquals(Similarity.cosine(y, new float[] {0, 5, 0}), m.score(), 1e-6);
            }
        }
    }

    @Test
    void tiesKeepInsertionOrder() {
        Gallery g = Gallery.builder(2).add("b", new float[] {0, 1}).add("a", new float[] {0, 2})
                .add("c", new float[] {1, 0}).build();
        assertEquals(List.of("b", "a", "c"), g.search(new float[] {0, 1}, 3).stream()
                .map(Identifier.Match::label).toList());
    }

    @Test
    void storesUnitRowsAndValidates() {
        Gallery g = Gallery.builder(2).add("x", new float[] {3, 4}).build();
        assertArrayEquals(new float[] {0.6f, 0.8f}, g.embedding(0), 1e-7f);
        assertEquals("x", g.label(0));
        Gallery.Builder b = Gallery.builder(2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.add("z", new float[2]));
        assertEquals("embedding for 'z' has zero norm", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> b.add("z", new float[3]));
        assertEquals("embedding for 'z' has 3 values, expected 2", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> b.add("", new float[] {1, 0}));
        assertThrows(IllegalArgumentException.class, () -> b.add("n", new float[] {Float.NaN, 0}));
        assertThrows(IllegalArgumentException.class, () -> Gallery.builder(0));
        assertThrows(IllegalArgumentException.class, () -> g.search(new float[] {1, 0}, 0));
        e = assertThrows(IllegalArgumentException.class, () -> g.search(new float[] {1, 0, 0}, 1));
        assertEquals("dimension mismatch: query has 3 values, gallery has 2", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> g.search(new float[] {0, 0}, 1));
        assertEquals(List.of(), Gallery.builder(4).build().search(new float[] {1, 0, 0, 0}, 3));
    }

    @Test
    void saveLoadRoundTrip() throws IOException {
        Random rnd = new Random(7);
        Gallery.Builder b = Gallery.builder(16).optModelId("m.onnx@sha256:abcdef012345");
        for (int i = 0; i < 40; i++) {
            float[] v = new float[16];
            for (int j = 0; j < 16; j++) {
                v[j] = (float) rnd.nextGaussian();
            }
            b.add("person_" + (i % 13) + (i % 2 == 0 ? "" : " é"), v);
        }
        Gallery g = b.build();
        Path f = dir.resolve("sub/g.gallery");
        g.save(f);
        g.save(f); // overwrite atomically
        try (Stream<Path> s = Files.list(f.getParent())) {
            assertEquals(List.of("g.gallery"), s.map(p -> p.getFileName().toString()).toList());
        }
        Gallery h = Gallery.load(f, 16);
        assertEquals(g.labels(), h.labels());
        assertEquals(g.size(), h.size());
        assertEquals("m.onnx@sha256:abcdef012345", h.modelId());
        for (int r = 0; r < g.size(); r++) {
            assertArrayEquals(g.embedding(r), h.embedding(r));
            assertEquals(g.label(r), h.label(r));
        }
        float[] q = new float[16];
        Arrays.fill(q, 0.3f);
        q[3] = -2;
        assertEquals(g.search(q, 5), h.search(q, 5));
        // empty gallery survives too
        Gallery empty = Gallery.builder(3).build();
        empty.save(dir.resolve("e.gallery"));
        assertEquals(0, Gallery.load(dir.resolve("e.gallery")).size());
    }

    @Test
    void corruptAndMismatchedFiles() throws IOException {
        Path f = dir.resolve("g.gallery");
        handMade().save(f);
        byte[] good = Files.readAllBytes(f);

        IOException e = assertThrows(IOException.class, () -> Gallery.load(f, 512));
        assertTrue(e.getMessage().contains("holds 3-d embeddings (model hand@sha256:000000000000) but the model"
                + " produces 512-d embeddings"), e.getMessage());

        assertCorrupt(write("magic.gallery", "hello, this is not a gallery at all".getBytes()), "bad magic");
        assertCorrupt(write("tiny.gallery", new byte[] {'S', 'K'}), "only 2 bytes");
        assertCorrupt(write("trunc.gallery", Arrays.copyOf(good, good.length - 20)), "truncated");
        assertCorrupt(write("head.gallery", Arrays.copyOf(good, 30)), "truncated");
        // The last row (dave, (-1, 0, 0)) is the 12 bytes before the 8-byte checksum, big-endian floats.
        byte[] flipped = good.clone();
        flipped[good.length - 20] ^= 0x40; // -1.0f (0xBF800000) becomes -Infinity (0xFF800000)
        assertCorrupt(write("flip.gallery", flipped), "row 4 is not unit-norm (norm Infinity)");
        byte[] tiny = good.clone();
        tiny[good.length - 9] ^= 1; // 0.0f becomes the smallest subnormal: still unit-norm, only the checksum sees it
        assertCorrupt(write("tiny-flip.gallery", tiny), "checksum mismatch");
        byte[] version = good.clone();
        ByteBuffer.wrap(version).putInt(8, 99);
        assertCorrupt(write("version.gallery", version), "unsupported format version 99");
        byte[] dim = good.clone();
        ByteBuffer.wrap(dim).putInt(12, 0);
        assertCorrupt(write("dim.gallery", dim), "dim must be in [1,65536], header says 0");
        byte[] rows = good.clone();
        ByteBuffer.wrap(rows).putInt(16, 1_000_000);
        assertCorrupt(write("rows.gallery", rows), "header declares 1000000 rows of 3 floats");
        byte[] trailing = Arrays.copyOf(good, good.length + 1);
        assertCorrupt(write("trail.gallery", trailing), "trailing bytes");
        byte[] crc = good.clone();
        crc[good.length - 1] ^= 1;
        assertCorrupt(write("crc.gallery", crc), "checksum mismatch");
        e = assertThrows(IOException.class, () -> Gallery.load(dir.resolve("missing.gallery")));
        assertTrue(e.getMessage().endsWith("missing.gallery does not exist"), e.getMessage());
    }

    private Path write(String name, byte[] data) throws IOException {
        return Files.write(dir.resolve(name), data);
    }

    private static void assertCorrupt(Path f, String detail) {
        IOException e = assertThrows(IOException.class, () -> Gallery.load(f));
        assertTrue(e.getMessage().startsWith("gallery file " + f + " is corrupt or not a gallery: "), e.getMessage());
        assertTrue(e.getMessage().contains(detail), e.getMessage());
    }
}
