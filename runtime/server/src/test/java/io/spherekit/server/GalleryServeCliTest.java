package io.spherekit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.spherekit.runtime.Gallery;
import io.spherekit.core.Preprocessing;
import io.spherekit.runtime.TestModelsAccess;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GalleryServeCliTest {

    @TempDir
    static Path dir;
    static Path model;
    static Path bare;
    static Path root;

    @BeforeAll
    static void setUp() throws IOException {
        Preprocessing pre = Preprocessing.fullImage(112, 96, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB);
        Map<String, String> md = new HashMap<>(pre.toMetadata());
        md.put("spherekit.threshold", "0.5");
        model = TestModelsAccess.standard(dir.resolve("m.onnx"), 112, 96, 8, md);
        bare = TestModelsAccess.standard(dir.resolve("bare.onnx"), 112, 96, 8, pre.toMetadata());
        root = dir.resolve("people");
        for (int k = 0; k < RuntimeMainTest.PEOPLE.length; k++) {
            for (int i = 1; i <= 2; i++) {
                RuntimeMainTest.png(root.resolve("P" + k).resolve("img" + i + ".png"), RuntimeMainTest.PEOPLE[k], 20 + i, 30);
            }
        }
        Files.createDirectories(root.resolve("empty_person"));
        Files.writeString(root.resolve("P0/notes.txt"), "not an image, ignored by extension");
    }

    @Test
    void buildThenSearch() throws IOException {
        Path g = dir.resolve("out/people.gallery");
        RuntimeMainTest.Run r = RuntimeMainTest.run("gallery", "build", "--model", model.toString(), "--provider", "cpu",
                "--root", root.toString(), "--output", g.toString(), "--batch", "3");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("gallery: 10 embeddings of 5 identities (8-d, model m.onnx@sha256:"), r.out());
        assertTrue(r.err().contains("empty_person holds no images; skipped"), r.err());
        Gallery loaded = Gallery.load(g, 8);
        assertEquals(List.of("P0", "P1", "P2", "P3", "P4"), loaded.labels());

        Path query = dir.resolve("q.png");
        RuntimeMainTest.png(query, RuntimeMainTest.PEOPLE[2], 50, 60);
        r = RuntimeMainTest.run("gallery", "search", "--model", model.toString(), "--provider", "cpu", "--gallery",
                g.toString(), "--k", "3", query.toString());
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(3, lines.length, r.out());
        // best of P2's two rows, by hand
        double best = Math.max(RuntimeMainTest.expectedCosine(query, root.resolve("P2/img1.png")),
                RuntimeMainTest.expectedCosine(query, root.resolve("P2/img2.png")));
        assertTrue(lines[0].matches("1\t\\d\\.\\d{6}\tP2"), lines[0]);
        assertEquals(best, Double.parseDouble(lines[0].split("\t")[1]), 2e-6);
        assertTrue(lines[1].startsWith("2\t") && lines[2].startsWith("3\t"), r.out());
        assertEquals(5, RuntimeMainTest.run("gallery", "search", "--model", model.toString(), "--provider", "cpu",
                "--gallery", g.toString(), query.toString()).out().strip().split("\n").length);

        // another model (other bytes, so another sha256): refused unless allowed; the same bytes renamed: accepted
        r = RuntimeMainTest.run("gallery", "search", "--model", bare.toString(), "--provider", "cpu", "--gallery",
                g.toString(), query.toString());
        assertEquals(1, r.code(), r.out());
        assertTrue(r.err().startsWith("error: gallery " + g + " was built with model m.onnx@sha256:"), r.err());
        assertTrue(r.err().contains("not bare.onnx@sha256:") && r.err().contains("--allow-model-mismatch"), r.err());
        assertEquals("", r.out());
        r = RuntimeMainTest.run("gallery", "search", "--model", bare.toString(), "--provider", "cpu", "--gallery",
                g.toString(), "--allow-model-mismatch", query.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("warning: gallery was built with model m.onnx@sha256:"), r.err());
        Path renamed = Files.copy(model, dir.resolve("renamed.onnx"));
        r = RuntimeMainTest.run("gallery", "search", "--model", renamed.toString(), "--provider", "cpu", "--gallery",
                g.toString(), "--k", "3", query.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(lines[0], r.out().strip().split("\n")[0]);
        assertFalse(r.err().contains("warning"), r.err());
    }

    /** Lines "rank\tscore\tlabel" of a search, as printed. */
    static List<String> searchLines(String... args) {
        RuntimeMainTest.Run r = RuntimeMainTest.run(args);
        assertEquals(0, r.code(), r.err());
        return List.of(r.out().strip().split("\n"));
    }

    @Test
    void hnswIndexBuildSearchAddRemoveStats() throws IOException {
        Path idx = dir.resolve("out/people-hnsw");
        Path exact = dir.resolve("out/people-exact.gallery");
        for (String[] kind : new String[][] {{"hnsw", idx.toString()}, {"exact", exact.toString()}}) {
            RuntimeMainTest.Run r = RuntimeMainTest.run("gallery", "build", "--model", model.toString(), "--provider",
                    "cpu", "--root", root.toString(), "--output", kind[1], "--index", kind[0], "--batch", "4");
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("gallery: 10 embeddings of 5 identities (8-d, model m.onnx@sha256:"), r.out());
        }
        assertTrue(Files.isDirectory(idx) && Files.isRegularFile(exact));
        RuntimeMainTest.Run st = RuntimeMainTest.run("gallery", "stats", "--gallery", idx.toString());
        assertEquals(0, st.code(), st.err());
        assertTrue(st.out().contains("kind: hnsw\nidentities: 5\nembeddings: 10\ndim: 8\nmodel: m.onnx@sha256:"),
                st.out());
        assertTrue(st.out().contains("encoding: float32\nhnsw_m: 32\nhnsw_beam_width: 200\nsegments: 1"), st.out());
        assertTrue(st.out().contains("preprocessing: ") && st.out().contains("align=crop"), st.out());

        Path query = dir.resolve("q-hnsw.png");
        RuntimeMainTest.png(query, RuntimeMainTest.PEOPLE[3], 44, 52);
        // a 10-embedding index is searched exhaustively: the same lines as the exact gallery
        List<String> viaIndex = searchLines("gallery", "search", "--model", model.toString(), "--provider", "cpu",
                "--gallery", idx.toString(), "--k", "5", query.toString());
        List<String> viaExact = searchLines("gallery", "search", "--model", model.toString(), "--provider", "cpu",
                "--gallery", exact.toString(), "--k", "5", query.toString());
        assertEquals(viaExact, viaIndex);
        assertEquals(viaExact, searchLines("gallery", "search", "--model", model.toString(), "--provider", "cpu",
                "--gallery", idx.toString(), "--k", "5", "--search-threads", "2", query.toString()));
        assertEquals(2, RuntimeMainTest.run("gallery", "search", "--model", model.toString(), "--gallery",
                idx.toString(), "--search-threads", "0", query.toString()).code());
        assertEquals(2, RuntimeMainTest.run("gallery", "build", "--model", model.toString(), "--root",
                root.toString(), "--output", dir.resolve("y").toString(), "--index", "hnsw", "--segments", "-1").code());
        double best = Math.max(RuntimeMainTest.expectedCosine(query, root.resolve("P3/img1.png")),
                RuntimeMainTest.expectedCosine(query, root.resolve("P3/img2.png")));
        assertTrue(viaIndex.get(0).endsWith("\tP3"), viaIndex.toString());
        assertEquals(best, Double.parseDouble(viaIndex.get(0).split("\t")[1]), 2e-6);

        // open-set: an enrolled face is accepted at a threshold just below its best cosine; a face not enrolled is
        // answered unknown at a threshold above its best cosine (computed by hand over every enrolled image)
        Path newcomer = dir.resolve("newcomer.png");
        RuntimeMainTest.png(newcomer, Color.CYAN, 33, 47); // no enrolled person has this colour
        double strangerBest = -2;
        String strangerLabel = null;
        for (int p = 0; p < RuntimeMainTest.PEOPLE.length; p++) {
            for (int i = 1; i <= 2; i++) {
                double c = RuntimeMainTest.expectedCosine(newcomer, root.resolve("P" + p + "/img" + i + ".png"));
                if (c > strangerBest) {
                    strangerBest = c;
                    strangerLabel = "P" + p;
                }
            }
        }
        assertTrue(strangerBest < 0.9999, "the stranger must not match perfectly: " + strangerBest);
        for (String g : new String[] {idx.toString(), exact.toString()}) {
            List<String> yes = searchLines("gallery", "search", "--model", model.toString(), "--provider", "cpu",
                    "--gallery", g, "--k", "1", "--threshold", String.valueOf(best - 1e-3), query.toString());
            assertTrue(yes.get(1).startsWith("identified P3 (cosine "), yes.toString());
            List<String> no = searchLines("gallery", "search", "--model", model.toString(), "--provider", "cpu",
                    "--gallery", g, "--k", "1", "--threshold", String.valueOf((strangerBest + 1) / 2),
                    newcomer.toString());
            assertTrue(no.get(1).startsWith(String.format(java.util.Locale.ROOT, "unknown (best %s, cosine %.6f < ",
                    strangerLabel, strangerBest)), no + " " + strangerBest);
        }

        // add a new identity to both kinds, find it at rank 1 with cosine 1, then remove it
        for (String g : new String[] {idx.toString(), exact.toString()}) {
            RuntimeMainTest.Run r = RuntimeMainTest.run("gallery", "add", "--model", model.toString(), "--provider",
                    "cpu", "--gallery", g, "--label", "Newcomer", newcomer.toString());
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("added 1 embeddings; now 11 embeddings of 6 identities"), r.out());
            List<String> top = searchLines("gallery", "search", "--model", model.toString(), "--provider", "cpu",
                    "--gallery", g, "--k", "1", newcomer.toString());
            assertTrue(top.get(0).startsWith("1\t") && top.get(0).endsWith("\tNewcomer"), top.toString());
            assertEquals(1.0, Double.parseDouble(top.get(0).split("\t")[1]), 2e-6);
            r = RuntimeMainTest.run("gallery", "remove", "--gallery", g, "Newcomer", "Nobody");
            assertEquals(1, r.code(), r.out());
            assertTrue(r.err().contains("identity 'Nobody' is not in gallery " + g + "; nothing removed"), r.err());
            r = RuntimeMainTest.run("gallery", "remove", "--gallery", g, "Newcomer");
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("removed 1 identities (1 embeddings); now 10 embeddings of 5 identities"),
                    r.out());
            List<String> after = searchLines("gallery", "search", "--model", model.toString(), "--provider", "cpu",
                    "--gallery", g, "--k", "5", newcomer.toString());
            assertTrue(after.stream().noneMatch(l -> l.endsWith("\tNewcomer")), after.toString());
        }

        // another model: refused for search and add unless allowed
        RuntimeMainTest.Run r = RuntimeMainTest.run("gallery", "search", "--model", bare.toString(), "--provider",
                "cpu", "--gallery", idx.toString(), query.toString());
        assertEquals(1, r.code(), r.out());
        assertTrue(r.err().startsWith("error: gallery " + idx + " was built with model m.onnx@sha256:"), r.err());
        r = RuntimeMainTest.run("gallery", "add", "--model", bare.toString(), "--provider", "cpu", "--gallery",
                idx.toString(), "--label", "X", newcomer.toString());
        assertEquals(1, r.code(), r.out());
        assertTrue(r.err().contains("--allow-model-mismatch"), r.err());
        r = RuntimeMainTest.run("gallery", "search", "--model", bare.toString(), "--provider", "cpu", "--gallery",
                idx.toString(), "--allow-model-mismatch", query.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("warning: gallery was built with model m.onnx@sha256:"), r.err());

        // a folder that is not an index, and a foreign setting
        Path junk = Files.createDirectories(dir.resolve("junk-index"));
        Files.writeString(junk.resolve("segments_1"), "not lucene");
        r = RuntimeMainTest.run("gallery", "search", "--model", model.toString(), "--provider", "cpu", "--gallery",
                junk.toString(), query.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("gallery index " + junk + " is corrupt or was written by an unsupported Lucene"), r.err());
        assertEquals(2, RuntimeMainTest.run("gallery", "build", "--model", model.toString(), "--root",
                root.toString(), "--output", dir.resolve("x").toString(), "--index", "hnsw", "--encoding",
                "int3").code());
    }

    @Test
    void galleryErrors() throws IOException {
        Path emptyRoot = Files.createDirectories(dir.resolve("nobody"));
        RuntimeMainTest.Run r = RuntimeMainTest.run("gallery", "build", "--model", model.toString(), "--provider", "cpu",
                "--root", emptyRoot.toString(), "--output", dir.resolve("x.gallery").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: no images found under " + emptyRoot), r.err());

        Path wrongDim = dir.resolve("dim4.gallery");
        Gallery.builder(4).add("x", new float[] {1, 0, 0, 0}).build().save(wrongDim);
        Path q = root.resolve("P0/img1.png");
        r = RuntimeMainTest.run("gallery", "search", "--model", model.toString(), "--provider", "cpu", "--gallery",
                wrongDim.toString(), q.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("holds 4-d embeddings but the model produces 8-d embeddings"), r.err());

        Path corrupt = Files.writeString(dir.resolve("corrupt.gallery"), "garbage");
        r = RuntimeMainTest.run("gallery", "search", "--model", model.toString(), "--provider", "cpu", "--gallery",
                corrupt.toString(), q.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("is corrupt or not a gallery"), r.err());

        assertEquals(2, RuntimeMainTest.run("gallery", "search", "--model", model.toString(), "--gallery",
                wrongDim.toString(), "--k", "0", q.toString()).code());
        assertEquals(2, RuntimeMainTest.run("gallery").code());
    }

    @Test
    void serveRefusesBadSettingsBeforeListening() throws IOException {
        assertEquals(2, RuntimeMainTest.run("serve", "--model", model.toString(), "--max-concurrency", "0").code());
        assertEquals(2, RuntimeMainTest.run("serve", "--model", model.toString(), "--gallery-search-threads", "0")
                .code());
        assertEquals(2, RuntimeMainTest.run("serve", "--model", model.toString(), "--threshold", "2").code());
        assertEquals(2, RuntimeMainTest.run("serve", "--model", model.toString(), "--port", "70000").code());
        RuntimeMainTest.Run r = RuntimeMainTest.run("serve", "--model", bare.toString(), "--provider", "cpu", "--port", "0");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("has no metadata spherekit.threshold; pass --threshold"), r.err());
        Path wrongDim = dir.resolve("dim5.gallery");
        Gallery.builder(5).add("x", new float[] {1, 0, 0, 0, 0}).build().save(wrongDim);
        r = RuntimeMainTest.run("serve", "--model", model.toString(), "--provider", "cpu", "--port", "0", "--gallery",
                wrongDim.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("holds 5-d embeddings"), r.err());
        // an exact gallery (format 2) recording another preprocessing than the model's: refused, naming the file and
        // both preprocessings; the model's is the one gallery build records for it
        Path built = dir.resolve("serve-pre.gallery");
        r = RuntimeMainTest.run("gallery", "build", "--model", model.toString(), "--provider", "cpu", "--root",
                root.toString(), "--output", built.toString());
        assertEquals(0, r.code(), r.err());
        String recorded = Gallery.load(built, 8).preprocessing();
        assertEquals("Preprocessing[crop=(0.0000,0.0000,1.0000,1.0000) -> 112x96 RGB, (p-127.5)*0.0078125];"
                + " align=crop", recorded);
        String other = recorded.replace("(p-127.5)", "(p-100.0)");
        Path otherPre = dir.resolve("other-pre.gallery");
        Gallery.builder(8).optPreprocessing(other).add("x", new float[] {1, 0, 0, 0, 0, 0, 0, 0}).build()
                .save(otherPre);
        r = RuntimeMainTest.run("serve", "--model", model.toString(), "--provider", "cpu", "--port", "0", "--gallery",
                otherPre.toString());
        assertEquals(1, r.code(), r.out());
        assertTrue(r.err().contains("gallery " + otherPre) && r.err().contains("was built with preprocessing '"
                + other + "' but the server uses '" + recorded + "'"), r.err());
        assertTrue(RuntimeMainTest.run("serve", "--help").out().contains("--timeout-ms"));
    }
}
