package io.spherekit.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.spherekit.core.ident.Identifier;
import io.spherekit.core.ident.Identifier.Match;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.Field;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class HnswGalleryTest {

    static final int DIM = 32;

    @TempDir
    Path dir;

    /** label -> raw (not normalised) embeddings: identities around random centres, as faces are. */
    static Map<String, List<float[]>> data(int identities, int perIdentity, long seed) {
        Random r = new Random(seed);
        Map<String, List<float[]>> m = new LinkedHashMap<>();
        for (int i = 0; i < identities; i++) {
            float[] c = gauss(r, 1.0);
            List<float[]> l = new ArrayList<>();
            for (int e = 0; e < perIdentity; e++) {
                float[] n = gauss(r, 0.6);
                float[] v = new float[DIM];
                for (int j = 0; j < DIM; j++) {
                    v[j] = (c[j] + n[j]) * (1 + e); // different norms: the gallery must normalise
                }
                l.add(v);
            }
            m.put("id" + i, l);
        }
        return m;
    }

    static float[] gauss(Random r, double s) {
        float[] v = new float[DIM];
        for (int j = 0; j < DIM; j++) {
            v[j] = (float) (r.nextGaussian() * s);
        }
        return v;
    }

    /** Independent reference: best cosine per label by brute force, top k, ties by label. */
    static List<Match> bruteForce(Map<String, List<float[]>> m, float[] q, int k) {
        List<Match> all = new ArrayList<>();
        for (Map.Entry<String, List<float[]>> e : m.entrySet()) {
            double best = -2;
            for (float[] v : e.getValue()) {
                double dot = 0, nv = 0, nq = 0;
                for (int j = 0; j < DIM; j++) {
                    dot += (double) v[j] * q[j];
                    nv += (double) v[j] * v[j];
                    nq += (double) q[j] * q[j];
                }
                best = Math.max(best, dot / Math.sqrt(nv * nq));
            }
            all.add(new Match(e.getKey(), best));
        }
        all.sort((a, b) -> a.score() != b.score() ? Double.compare(b.score(), a.score()) : a.label().compareTo(b.label()));
        return all.subList(0, Math.min(k, all.size()));
    }

    static HnswGallery build(Path p, Map<String, List<float[]>> m, HnswGallery.Encoding enc) throws IOException {
        HnswGallery g = HnswGallery.create(p, DIM, "model-a@sha256:0123456789ab", "crop 112x96",
                HnswGallery.Options.defaults().withEncoding(enc).withThreads(2));
        for (Map.Entry<String, List<float[]>> e : m.entrySet()) {
            for (float[] v : e.getValue()) {
                g.add(e.getKey(), v);
            }
        }
        g.commit();
        return g;
    }

    static void assertSameMatches(List<Match> want, List<Match> got, double tol) {
        assertEquals(want.stream().map(Match::label).toList(), got.stream().map(Match::label).toList());
        for (int i = 0; i < want.size(); i++) {
            assertEquals(want.get(i).score(), got.get(i).score(), tol, want.get(i).label());
        }
    }

    @ParameterizedTest
    @EnumSource(HnswGallery.Encoding.class)
    void searchWithFullBeamEqualsBruteForceAndPersists(HnswGallery.Encoding enc) throws IOException {
        Map<String, List<float[]>> m = data(150, 3, 1);
        Path p = dir.resolve("g");
        Random r = new Random(2);
        List<float[]> queries = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            queries.add(i % 2 == 0 ? gauss(r, 1) : m.get("id" + (i * 7)).get(0).clone());
        }
        try (HnswGallery g = build(p, m, enc)) {
            assertEquals(150, g.identityCount());
            assertEquals(450, g.embeddingCount());
            for (float[] q : queries) {
                // a beam of every embedding makes HNSW exhaustive: the grouping and rescoring must then be exact
                assertSameMatches(bruteForce(m, q, 10), g.search(q, 10, 450), 1e-6);
            }
        }
        HnswGallery.Metadata md = HnswGallery.readMetadata(p);
        assertEquals(new HnswGallery.Metadata(DIM, "model-a@sha256:0123456789ab", "crop 112x96", enc, 32, 200), md);
        try (HnswGallery g = HnswGallery.open(p, false)) {
            assertEquals(150, g.identityCount());
            assertEquals(enc, g.metadata().encoding());
            for (float[] q : queries) {
                assertSameMatches(bruteForce(m, q, 5), g.search(q, 5, 450), 1e-6);
            }
            // default beam: an enrolled embedding is found with cosine 1 at rank 1
            float[] q = m.get("id42").get(2);
            Match top = g.search(q, 3).get(0);
            assertEquals("id42", top.label());
            assertEquals(1.0, top.score(), 1e-6);
            assertThrows(IllegalStateException.class, () -> g.add("x", q));
        }
    }

    @Test
    void defaultBeamRecallOnClusteredData() throws IOException {
        Map<String, List<float[]>> m = data(2000, 4, 3);
        Random r = new Random(4);
        try (HnswGallery g = build(dir.resolve("g"), m, HnswGallery.Encoding.FLOAT32)) {
            g.forceMerge(1);
            int hits = 0, total = 0, top1 = 0;
            for (int i = 0; i < 50; i++) {
                float[] base = m.get("id" + r.nextInt(2000)).get(0);
                float[] q = base.clone();
                float[] n = gauss(r, 0.5);
                for (int j = 0; j < DIM; j++) {
                    q[j] = q[j] / 1 + n[j];
                }
                List<Match> want = bruteForce(m, q, 10);
                List<Match> got = g.search(q, 10, 200);
                assertEquals(10, got.size());
                if (want.get(0).label().equals(got.get(0).label())) {
                    top1++;
                }
                for (Match w : want) {
                    total++;
                    if (got.stream().anyMatch(x -> x.label().equals(w.label()))) {
                        hits++;
                    }
                }
                // whatever was found carries its exact score
                Map<String, Double> exact = new HashMap<>();
                bruteForce(m, q, 8000).forEach(x -> exact.put(x.label(), x.score()));
                for (Match x : got) {
                    assertEquals(exact.get(x.label()), x.score(), 1e-6, x.label());
                }
            }
            assertTrue(top1 >= 49, "recall@1 " + top1 + "/50");
            assertTrue(hits >= 0.95 * total, "recall@10 " + hits + "/" + total);
        }
    }

    @Test
    void identitiesSpanningSegmentsAreGroupedExactly() throws IOException {
        // each identity's embeddings are added in three commits, so every identity lives in three segments; the
        // per-segment grouping by label ordinal must still give brute force's top k, for k below and above the
        // number of identities any one segment holds
        Map<String, List<float[]>> m = data(60, 3, 11);
        Path p = dir.resolve("g");
        try (HnswGallery g = HnswGallery.create(p, DIM, "model-a@sha256:0123456789ab", "crop 112x96",
                HnswGallery.Options.defaults().withThreads(1))) {
            for (int round = 0; round < 3; round++) {
                for (Map.Entry<String, List<float[]>> e : m.entrySet()) {
                    g.add(e.getKey(), e.getValue().get(round));
                }
                g.commit();
            }
            assertTrue(g.stats().segments() >= 2, "segments: " + g.stats().segments());
            Random r = new Random(5);
            for (int i = 0; i < 12; i++) {
                float[] q = i % 3 == 0 ? gauss(r, 1) : m.get("id" + (i * 4)).get(i % 3).clone();
                for (int k : new int[] {1, 5, 60}) {
                    assertSameMatches(bruteForce(m, q, k), g.search(q, k, 180), 1e-6);
                }
            }
        }
    }

    @Test
    void searchThreadsWalkSegmentsInParallelWithTheSameResult() throws IOException {
        // three commits without merging leave three segments; a reader with 2 search threads searches them as
        // parallel tasks and must give brute force's top k, the same as the single-thread reader
        Map<String, List<float[]>> m = data(60, 3, 12);
        Path p = dir.resolve("g");
        try (HnswGallery g = HnswGallery.create(p, DIM, "m", "", HnswGallery.Options.defaults().withThreads(1))) {
            for (int round = 0; round < 3; round++) {
                for (Map.Entry<String, List<float[]>> e : m.entrySet()) {
                    g.add(e.getKey(), e.getValue().get(round));
                }
                g.commit();
            }
        }
        HnswGallery.Options two = HnswGallery.Options.defaults().withSearchThreads(2);
        try (HnswGallery one = HnswGallery.open(p, false); HnswGallery par = HnswGallery.open(p, false, two)) {
            assertTrue(par.stats().segments() >= 2, "segments: " + par.stats().segments());
            Random r = new Random(6);
            for (int i = 0; i < 10; i++) {
                float[] q = i % 2 == 0 ? gauss(r, 1) : m.get("id" + (i * 5)).get(i % 3).clone();
                for (int k : new int[] {1, 10}) {
                    List<Match> want = bruteForce(m, q, k);
                    assertSameMatches(want, par.search(q, k, 180), 1e-6);
                    assertSameMatches(one.search(q, k, 180), par.search(q, k, 180), 0);
                }
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HnswGallery.Options.defaults().withSearchThreads(0));
        assertTrue(e.getMessage().contains("searchThreads=0"), e.getMessage());
    }

    @Test
    void removeAndAddIncrementally() throws IOException {
        Map<String, List<float[]>> m = data(40, 2, 5);
        Path p = dir.resolve("g");
        float[] q = m.get("id7").get(0);
        try (HnswGallery g = build(p, m, HnswGallery.Encoding.FLOAT32)) {
            assertEquals("id7", g.search(q, 1).get(0).label());
            assertEquals(2, g.remove("id7"));
            assertEquals(0, g.remove("nobody"));
            g.refresh();
            assertEquals(39, g.identityCount());
            assertEquals(78, g.embeddingCount());
            m.remove("id7");
            assertSameMatches(bruteForce(m, q, 5), g.search(q, 5, 80), 1e-6);
        }
        try (HnswGallery g = HnswGallery.open(p, true)) {
            assertEquals(39, g.identityCount());
            float[] extra = gauss(new Random(9), 1);
            g.add("newcomer", extra);
            g.add("id3", extra); // a second identity sharing nothing else; id3 now has 3 embeddings
            g.commit();
            assertEquals(40, g.identityCount());
            assertEquals(80, g.embeddingCount());
            List<Match> top = g.search(extra, 2);
            assertEquals(List.of("id3", "newcomer"), top.stream().map(Match::label).toList());
        }
        try (HnswGallery g = HnswGallery.open(p, false)) {
            assertEquals(40, g.identityCount());
            assertTrue(g.search(q, 40).stream().noneMatch(x -> x.label().equals("id7")));
        }
    }

    @Test
    void openSetDecision() throws IOException {
        Map<String, List<float[]>> m = data(30, 2, 6);
        try (HnswGallery g = build(dir.resolve("g"), m, HnswGallery.Encoding.FLOAT32)) {
            float[] enrolled = m.get("id4").get(1);
            Identifier.Decision d = g.identify(enrolled, 0.5);
            assertTrue(d.known());
            assertEquals("id4", d.label());
            float[] stranger = gauss(new Random(77), 1);
            double bestScore = bruteForce(m, stranger, 1).get(0).score();
            Identifier.Decision u = g.identify(stranger, Math.min(1, bestScore + 0.01));
            assertFalse(u.known());
            assertNull(u.label());
            assertEquals("unknown", u.labelOrUnknown());
            assertEquals(bestScore, u.best().score(), 1e-6);
            assertTrue(g.identify(stranger, bestScore - 0.01).known());
            assertThrows(IllegalArgumentException.class, () -> g.identify(stranger, 1.5));
        }
    }

    @Test
    void concurrentSearchDuringAdds() throws Exception {
        Map<String, List<float[]>> m = data(400, 1, 8);
        List<String> labels = new ArrayList<>(m.keySet());
        try (HnswGallery g = HnswGallery.create(dir.resolve("g"), DIM, "m", "", HnswGallery.Options.defaults())) {
            for (int i = 0; i < 50; i++) {
                g.add(labels.get(i), m.get(labels.get(i)).get(0));
            }
            g.refresh();
            AtomicInteger visible = new AtomicInteger(50);
            AtomicBoolean stop = new AtomicBoolean();
            List<Throwable> errors = new CopyOnWriteArrayList<>();
            AtomicInteger searches = new AtomicInteger();
            List<Thread> readers = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                long seed = t;
                Thread th = new Thread(() -> {
                    Random r = new Random(seed);
                    try {
                        while (!stop.get()) {
                            int n = visible.get();
                            String l = labels.get(r.nextInt(n));
                            Match top = g.search(m.get(l).get(0), 1).get(0);
                            if (!top.label().equals(l) || Math.abs(top.score() - 1) > 1e-6) {
                                errors.add(new AssertionError("searching " + l + " found " + top));
                            }
                            searches.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                });
                th.start();
                readers.add(th);
            }
            for (int i = 50; i < labels.size(); i++) {
                g.add(labels.get(i), m.get(labels.get(i)).get(0));
                if (i % 25 == 0) {
                    g.refresh();
                    visible.set(i + 1);
                }
            }
            g.refresh();
            visible.set(labels.size());
            while (searches.get() < 200) {
                Thread.onSpinWait();
            }
            stop.set(true);
            for (Thread th : readers) {
                th.join();
            }
            assertEquals(List.of(), errors);
            assertEquals(400, g.identityCount());
        }
    }

    @Test
    void bulkBuildIsAtomicAndReplacesAGallery() throws IOException {
        Map<String, List<float[]>> m = data(300, 3, 10);
        List<HnswGallery.Entry> records = new ArrayList<>();
        m.forEach((l, vs) -> vs.forEach(v -> records.add(new HnswGallery.Entry(l, v))));
        Collections.shuffle(records, new Random(11));
        Path target = dir.resolve("out/bulk");
        HnswGallery.Options o = HnswGallery.Options.defaults().withThreads(2).withEncoding(HnswGallery.Encoding.INT7);
        try (HnswGallery.BulkBuilder b = HnswGallery.bulkBuilder(target, DIM, "m1", "p", o)) {
            assertEquals(900, b.addAll(records));
            assertFalse(Files.exists(target)); // nothing visible before finish
            b.finish(true);
        }
        assertEquals(List.of("bulk"), list(dir.resolve("out")));
        try (HnswGallery g = HnswGallery.open(target, false)) {
            assertEquals(300, g.identityCount());
            assertEquals(900, g.embeddingCount());
            assertEquals(1, g.stats().segments());
            assertTrue(g.stats().diskBytes() > 900L * DIM * 5, "float32 + int7 vectors on disk");
            float[] q = m.get("id123").get(1);
            assertSameMatches(bruteForce(m, q, 10), g.search(q, 10, 900), 1e-6);
        }
        // a second build replaces it; a failed one leaves it untouched and deletes its temporary folder
        try (HnswGallery.BulkBuilder b = HnswGallery.bulkBuilder(target, DIM, "m2", "p", o)) {
            b.add("solo", m.get("id1").get(0));
            b.finish(true);
        }
        assertEquals("m2", HnswGallery.readMetadata(target).modelId());
        try (HnswGallery.BulkBuilder b = HnswGallery.bulkBuilder(target, DIM, "m3", "p", o)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> b.addAll(List.of(new HnswGallery.Entry("bad", new float[DIM]))));
            assertTrue(e.getMessage().contains("embedding for 'bad' has zero norm"), e.getMessage());
        }
        assertEquals("m2", HnswGallery.readMetadata(target).modelId());
        assertEquals(List.of("bulk"), list(dir.resolve("out")));
        Path notIndex = Files.createDirectories(dir.resolve("photos"));
        Files.writeString(notIndex.resolve("a.txt"), "x");
        IOException e = assertThrows(IOException.class, () -> HnswGallery.bulkBuilder(notIndex, DIM, "", "", o));
        assertTrue(e.getMessage().contains(notIndex + " exists and is not a gallery index"), e.getMessage());
    }

    @Test
    void clearErrorsNamingThePath() throws IOException {
        Path missing = dir.resolve("missing");
        assertMessage(missing, missing + " does not exist");
        Path file = Files.writeString(dir.resolve("file.gallery"), "x");
        assertMessage(file, file + " is a file, not an index folder");
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertMessage(empty, empty + " is not a gallery index: no Lucene commit");

        Path foreign = dir.resolve("foreign");
        try (IndexWriter w = new IndexWriter(FSDirectory.open(foreign), new IndexWriterConfig())) {
            Document d = new Document();
            d.add(new StringField("title", "hello", Field.Store.YES));
            w.addDocument(d);
        }
        assertMessage(foreign, foreign + " is a Lucene index but not a SphereKit gallery");

        Path corrupt = dir.resolve("corrupt");
        build(corrupt, data(20, 2, 12), HnswGallery.Encoding.FLOAT32).close();
        Path seg = list(corrupt).stream().filter(n -> n.startsWith("segments_")).map(corrupt::resolve).findFirst()
                .orElseThrow();
        byte[] b = Files.readAllBytes(seg);
        b[b.length / 2] ^= 0x5a;
        Files.write(seg, b);
        assertMessage(corrupt, corrupt + " is corrupt or truncated");

        Path truncated = dir.resolve("truncated");
        build(truncated, data(20, 2, 13), HnswGallery.Encoding.FLOAT32).close();
        Path vec = list(truncated).stream().filter(n -> n.endsWith(".vec")).map(truncated::resolve).findFirst()
                .orElseThrow();
        Files.write(vec, java.util.Arrays.copyOf(Files.readAllBytes(vec), (int) Files.size(vec) / 2));
        IOException e = assertThrows(IOException.class, () -> HnswGallery.open(truncated, false).close());
        assertTrue(e.getMessage().startsWith("gallery index " + truncated + " is corrupt or truncated"), e.getMessage());

        Path locked = dir.resolve("locked");
        try (HnswGallery g = build(locked, data(5, 1, 14), HnswGallery.Encoding.FLOAT32)) {
            IOException l = assertThrows(IOException.class, () -> HnswGallery.open(locked, true));
            assertTrue(l.getMessage().startsWith("gallery index " + locked + " is locked by another writer"),
                    l.getMessage());
            try (HnswGallery ro = HnswGallery.open(locked, false)) { // readers are fine alongside the writer
                assertEquals(5, ro.identityCount());
            }
            assertEquals(DIM, g.dim());
        }
        IOException c = assertThrows(IOException.class, () -> HnswGallery.create(locked, DIM, "", "",
                HnswGallery.Options.defaults()));
        assertTrue(c.getMessage().contains(locked + " exists and is not empty"), c.getMessage());
        IllegalArgumentException d = assertThrows(IllegalArgumentException.class,
                () -> HnswGallery.create(dir.resolve("big"), 2048, "", "", HnswGallery.Options.defaults()));
        assertTrue(d.getMessage().contains("dim must be in [1,1024]"), d.getMessage());
    }

    private static void assertMessage(Path p, String expected) {
        IOException e = assertThrows(IOException.class, () -> HnswGallery.open(p, false).close());
        assertTrue(e.getMessage().startsWith("gallery index " + expected), e.getMessage());
    }

    private static List<String> list(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(x -> x.getFileName().toString()).sorted().toList();
        }
    }
}
