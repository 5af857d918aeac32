package io.spherekit.core.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PairListTest {

    @TempDir
    Path dir;

    private Path root() throws IOException {
        Path root = dir.resolve("imgs");
        for (String n : List.of("A", "B", "C")) {
            Files.createDirectories(root.resolve(n));
            for (int i = 1; i <= 4; i++) {
                Files.write(root.resolve(n).resolve(String.format("%s_%04d.jpg", n, i)), new byte[] {1});
            }
        }
        return root;
    }

    private Path file(String content) throws IOException {
        return Files.writeString(dir.resolve("pairs.txt"), content);
    }

    @Test
    void readsFoldedFormatWithOwnFolds() throws IOException {
        Path root = root();
        Path f = file("2\t1\nA\t1\t2\nA\t1\tB\t1\nB\t3\t4\nB\t2\tC\t4\n");
        PairList p = PairList.read(f, root);
        assertEquals(4, p.size());
        assertEquals(2, p.folds());
        assertArrayEquals(new int[] {0, 0, 1, 1}, p.foldIndices());
        assertArrayEquals(new boolean[] {true, false, true, false}, p.genuine());
        assertEquals(root.resolve("A").resolve("A_0001.jpg"), p.pairs().get(0).first());
        assertEquals(root.resolve("C").resolve("C_0004.jpg"), p.pairs().get(3).second());
        assertEquals(5, p.pairs().get(3).line());
        assertEquals(7, p.distinctImages().size());
    }

    @Test
    void flatFormatGetsTenBalancedFolds() throws IOException {
        Path root = root();
        StringBuilder sb = new StringBuilder("20\n");
        for (int i = 0; i < 20; i++) {
            sb.append("A 1 2\n");
        }
        for (int i = 0; i < 20; i++) {
            sb.append("A 1 B 2\n");
        }
        PairList p = PairList.read(file(sb.toString()), root);
        assertEquals(40, p.size());
        assertEquals(10, p.folds());
        int[] genPerFold = new int[10];
        int[] impPerFold = new int[10];
        for (PairList.Pair pair : p.pairs()) {
            (pair.genuine() ? genPerFold : impPerFold)[pair.fold()]++;
        }
        for (int k = 0; k < 10; k++) {
            assertEquals(2, genPerFold[k]);
            assertEquals(2, impPerFold[k]);
        }
        assertEquals(0, p.pairs().get(0).fold());
        assertEquals(9, p.pairs().get(19).fold());
        assertEquals(0, p.pairs().get(20).fold());
    }

    @Test
    void malformedLinesNameFileAndLine() throws IOException {
        Path root = root();
        IOException e = assertThrows(IOException.class, () -> PairList.read(file("2 1\nA 1 2\nA 1 B\n"), root));
        assertTrue(e.getMessage().contains("pairs.txt:3"), e.getMessage());
        assertTrue(e.getMessage().contains("name1 i name2 j"), e.getMessage());
        e = assertThrows(IOException.class, () -> PairList.read(file("1 1\nA x 2\nA 1 B 1\n"), root));
        assertTrue(e.getMessage().contains("pairs.txt:2"), e.getMessage());
        e = assertThrows(IOException.class, () -> PairList.read(file("hello world again\n"), root));
        assertTrue(e.getMessage().contains("pairs.txt:1") && e.getMessage().contains("header"), e.getMessage());
        e = assertThrows(IOException.class, () -> PairList.read(file("1 1\nA 1 2\n"), root));
        assertTrue(e.getMessage().contains("promises 2"), e.getMessage());
        e = assertThrows(IOException.class, () -> PairList.read(file("1 1\nA 1 2\nA 1 B 1\nA 1 2\n"), root));
        assertTrue(e.getMessage().contains("pairs.txt:4") && e.getMessage().contains("extra"), e.getMessage());
        e = assertThrows(IOException.class, () -> PairList.read(dir.resolve("nope.txt"), root));
        assertTrue(e.getMessage().contains("nope.txt"), e.getMessage());
    }

    @Test
    void missingImagesFailOrSkip() throws IOException {
        Path root = root();
        Path f = file("1 2\nA 1 2\nA 1 9\nA 1 B 1\nZed 1 B 1\n");
        IOException e = assertThrows(IOException.class, () -> PairList.read(f, root));
        assertTrue(e.getMessage().contains("2 image(s) missing"), e.getMessage());
        assertTrue(e.getMessage().contains("A_0009.jpg") && e.getMessage().contains("Zed_0001.jpg"), e.getMessage());
        PairList p = PairList.read(f, root, PairList.MissingImages.SKIP);
        assertEquals(2, p.size());
        assertEquals(2, p.skippedPairs());
        assertEquals(List.of(root.resolve("A/A_0009.jpg"), root.resolve("Zed/Zed_0001.jpg")), p.missingImages());
    }

    /** LFW location: -Dspherekit.lfw, env SPHEREKIT_LFW, else ${spherekit.root}/../shared/data/lfw. */
    static Path lfw() {
        String p = System.getProperty("spherekit.lfw");
        if (p == null || p.isBlank()) {
            p = System.getenv("SPHEREKIT_LFW");
        }
        if (p == null || p.isBlank()) {
            String root = System.getProperty("spherekit.root");
            if (root == null) {
                return null;
            }
            return Path.of(root).resolve("../shared/data/lfw").normalize();
        }
        return Path.of(p);
    }

    @Test
    void realPairsDevTestHas500Plus500() throws IOException {
        Path lfw = lfw();
        Assumptions.assumeTrue(lfw != null && Files.isRegularFile(lfw.resolve("pairsDevTest.txt")),
                "LFW not found (set -Dspherekit.lfw or SPHEREKIT_LFW); looked at " + lfw);
        Path pairs = lfw.resolve("pairsDevTest.txt");
        assertEquals("500", Files.readAllLines(pairs).get(0).strip());
        PairList p = PairList.read(pairs, lfw.resolve("lfw-deepfunneled"));
        assertEquals(1000, p.size());
        assertEquals(500, p.genuineCount());
        assertEquals(0, p.skippedPairs());
        assertEquals(10, p.folds());
        int[] perFold = new int[10];
        for (PairList.Pair pair : p.pairs()) {
            perFold[pair.fold()] += pair.genuine() ? 1 : 1000;
        }
        for (int k = 0; k < 10; k++) {
            assertEquals(50 + 50 * 1000, perFold[k], "fold " + k);
        }
        assertTrue(Files.isRegularFile(p.pairs().get(0).first()));
        assertFalse(p.pairs().get(999).genuine());
        PairList full = PairList.read(lfw.resolve("pairs.txt"), lfw.resolve("lfw-deepfunneled"));
        assertEquals(6000, full.size());
        assertEquals(3000, full.genuineCount());
        assertEquals(0, full.pairs().get(599).fold());
        assertEquals(1, full.pairs().get(600).fold());
        assertEquals(9, full.pairs().get(5999).fold());
    }
}
