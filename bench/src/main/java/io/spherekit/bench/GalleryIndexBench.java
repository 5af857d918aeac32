package io.spherekit.bench;

import io.spherekit.core.Images;
import io.spherekit.core.ident.Identifier;
import io.spherekit.index.HnswGallery;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.Gallery;
import io.spherekit.runtime.ModelId;

import java.awt.image.BufferedImage;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * 1:N identification benchmark: the HNSW gallery ({@link HnswGallery}, Lucene 9.12) against the exact scan.
 *
 * <p>Synthetic data clustered like face embeddings: each identity has a random unit centre {@code c} in R^D and an
 * intra-class coefficient {@code a² ~ U[0.6, 0.8]}; its embeddings are {@code a·c + sqrt(1−a²)·n} with {@code n} a
 * random unit vector, so two embeddings of one identity have cosine ≈ a² (genuine 0.6–0.8) and of two identities
 * ≈ 0 (impostor, std 1/√D). Probes: fresh samples of enrolled identities (genuine) and samples of identities never
 * enrolled (open-set impostors). Optionally real LFW embeddings ({@code --lfw-embeddings}, written by
 * {@code --embed-lfw}) are mixed in: the first image of every LFW person is enrolled; the other images of DevTest
 * people with ≥ 2 images are genuine probes; the images of DevTest people with one image are impostor probes (not
 * enrolled). With {@code --synthetic fit} the synthetic identities are instead drawn from the real DevTest
 * embeddings' statistics ({@link Fit}), so they surround the real vectors as a gallery of one model's embeddings would.
 *
 * <p>For each size, encoding and search beam: recall@1 and recall@10 of the index's top-10 identities against the
 * exact top-10 (streamed exact scan, the same max-per-identity cosine as {@link Gallery#search}, checked equal to
 * {@code Gallery} on a sample at sizes ≤ 300k), single-query latency p50/p99 (one thread), build rate, disk bytes,
 * heap and RSS; LFW rank-1 and DIR@FAR, exact vs index. Writes one JSON per run into {@code --out}.
 *
 * <pre>
 * GalleryIndexBench --sizes 100000,300000,1000000 --encodings float32,int7 --fanouts 50,100,200 --out DIR --work DIR
 * GalleryIndexBench --embed-lfw --model m.onnx --lfw LFW_DIR --output lfw.emb
 * </pre>
 */
public final class GalleryIndexBench {

    static final int K = 10;

    private GalleryIndexBench() {
    }

    // ------------------------------------------------------------------ synthetic data

    /** Deterministic synthetic identities. */
    record Synth(long seed, int dim, int per, float[][] basis, Fit fit) {
        /** @param latent 0: centres isotropic in R^dim; else centres = normalise(B·z), z ~ N(0, I_latent) */
        static Synth of(long seed, int dim, int per, int latent) {
            float[][] b = null;
            if (latent > 0) {
                SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
                b = new float[latent][];
                for (int i = 0; i < latent; i++) {
                    b[i] = unitGauss(r, dim);
                }
            }
            return new Synth(seed, dim, per, b, null);
        }

        /** Synthetic identities drawn to match the second-order statistics of real embeddings ({@link Fit}). */
        static Synth fitted(long seed, int dim, int per, Fit fit) {
            return new Synth(seed, dim, per, null, fit);
        }

        float[] centre(SplittableRandom r) {
            if (fit != null) {
                float[] c = fit.mean().clone();
                fit.addCombination(fit.centres(), r, c);
                return c;
            }
            if (basis == null) {
                return unitGauss(r, dim);
            }
            float[] c = new float[dim];
            for (float[] col : basis) {
                float z = (float) r.nextGaussian();
                for (int j = 0; j < dim; j++) {
                    c[j] += z * col[j];
                }
            }
            return unit(c);
        }

        float[][] identity(int id) {
            SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + id);
            float[] c = centre(r);
            double a2 = a2(r);
            float[][] out = new float[per][];
            for (int e = 0; e < per; e++) {
                out[e] = sample(c, a2, r);
            }
            return out;
        }

        float[] probe(int id, int j) {
            SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + id);
            float[] c = centre(r);
            double a2 = a2(r);
            SplittableRandom p = new SplittableRandom(~seed * 31 + id * 1_000_003L + j);
            return sample(c, a2, p);
        }

        float[] stranger(int j) {
            return probe(-1 - j, 0); // negative ids are never enrolled
        }

        /** Isotropic: the intra-class coefficient a² ~ U[0.6, 0.8]; fitted: the identity's deviation scale. */
        private double a2(SplittableRandom r) {
            return fit != null ? fit.spread()[r.nextInt(fit.spread().length)] : 0.6 + 0.2 * r.nextDouble();
        }

        private float[] sample(float[] c, double a2, SplittableRandom r) {
            if (fit != null) {
                float[] v = c.clone();
                fit.addCombination(fit.deviations(), r, v, a2);
                return unit(v);
            }
            float[] n = unitGauss(r, dim);
            double a = Math.sqrt(a2), b = Math.sqrt(1 - a2);
            float[] v = new float[dim];
            for (int j = 0; j < dim; j++) {
                v[j] = (float) (a * c[j] + b * n[j]);
            }
            return unit(v);
        }
    }

    /**
     * The second-order statistics of real embeddings, for synthetic identities that are spread like one model's
     * embeddings (same mean direction, same between- and within-identity covariance) instead of isotropically.
     *
     * <p>From people with at least two images: identity centre {@code c_p} = mean of the person's unit embeddings,
     * {@code mean} = mean of the centres, {@code centres[p] = c_p − mean}, and {@code deviations} = each image's
     * {@code e − c_p} scaled by {@code sqrt(n_p/(n_p−1))} (so its covariance is unbiased). A synthetic centre is
     * {@code mean + K^-1/2 Σ_k z_k·centres[p_k]}, an embedding {@code unit(centre + K^-1/2 Σ_k z_k·deviations[i_k])},
     * with {@code z_k ~ N(0,1)} and {@code p_k}, {@code i_k} drawn uniformly: each term has the empirical covariance,
     * so both sums have it (a Gaussian-like mixture of the real directions, not a copy of any real vector).
     *
     * <p>Two corrections: a person's mean of {@code n_p} images carries {@code 1/n_p} of the within-identity
     * covariance, so the centred centres are shrunk by {@code sqrt(1 − tr(W)·mean(1/n_p)/tr(C))} to the between-identity
     * spread alone; and identities differ in how much their images vary, so each synthetic identity scales its
     * deviations by {@code sqrt(v_q/mean v)} of a real person {@code q} drawn uniformly, {@code v_q} being q's mean
     * squared deviation ({@code spread}).
     *
     * @param mean       [dim] mean identity centre (not unit)
     * @param centres    [P][dim] centred identity centres, shrunk as above
     * @param deviations [N][dim] within-identity deviations
     * @param spread     [P] per-person within-identity scale factors, mean of squares 1
     * @param terms      K, the number of real directions combined per draw
     */
    record Fit(float[] mean, float[][] centres, float[][] deviations, float[] spread, int terms) {
        static Fit of(List<List<float[]>> people, int terms) {
            int dim = people.get(0).get(0).length;
            List<float[]> cs = new ArrayList<>();
            List<float[]> devs = new ArrayList<>();
            List<Double> vs = new ArrayList<>();
            double[] mean = new double[dim];
            double invN = 0, trW = 0;
            for (List<float[]> imgs : people) {
                if (imgs.size() < 2) {
                    continue;
                }
                invN += 1.0 / imgs.size();
                double v = 0;
                float[] c = new float[dim];
                for (float[] e : imgs) {
                    for (int j = 0; j < dim; j++) {
                        c[j] += e[j] / imgs.size();
                    }
                }
                double scale = Math.sqrt(imgs.size() / (imgs.size() - 1.0));
                for (float[] e : imgs) {
                    float[] d = new float[dim];
                    for (int j = 0; j < dim; j++) {
                        d[j] = (float) ((e[j] - c[j]) * scale);
                        v += (double) d[j] * d[j];
                    }
                    devs.add(d);
                }
                trW += v;
                vs.add(v / imgs.size());
                cs.add(c);
                for (int j = 0; j < dim; j++) {
                    mean[j] += c[j];
                }
            }
            if (cs.size() < 2) {
                throw new IllegalArgumentException("fitting synthetic identities needs >= 2 people with >= 2 images,"
                        + " got " + cs.size());
            }
            float[] mu = new float[dim];
            for (int j = 0; j < dim; j++) {
                mu[j] = (float) (mean[j] / cs.size());
            }
            double trC = 0;
            for (float[] c : cs) {
                for (int j = 0; j < dim; j++) {
                    c[j] -= mu[j];
                    trC += (double) c[j] * c[j];
                }
            }
            trC /= cs.size();
            trW /= devs.size();
            invN /= cs.size();
            double shrink2 = 1 - trW * invN / trC;
            if (!(shrink2 > 0.05)) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "the real identity centres barely"
                        + " differ beyond within-identity noise (between trace %.4f, within %.4f, mean 1/n %.3f);"
                        + " cannot fit synthetic identities", trC, trW, invN));
            }
            float shrink = (float) Math.sqrt(shrink2);
            for (float[] c : cs) {
                for (int j = 0; j < dim; j++) {
                    c[j] *= shrink;
                }
            }
            double meanV = vs.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            float[] spread = new float[vs.size()];
            for (int i = 0; i < spread.length; i++) {
                spread[i] = (float) Math.sqrt(vs.get(i) / meanV);
            }
            return new Fit(mu, cs.toArray(float[][]::new), devs.toArray(float[][]::new), spread, terms);
        }

        void addCombination(float[][] dirs, SplittableRandom r, float[] acc) {
            addCombination(dirs, r, acc, 1);
        }

        void addCombination(float[][] dirs, SplittableRandom r, float[] acc, double scale) {
            double inv = scale / Math.sqrt(terms);
            for (int k = 0; k < terms; k++) {
                float[] d = dirs[r.nextInt(dirs.length)];
                float z = (float) (r.nextGaussian() * inv);
                for (int j = 0; j < acc.length; j++) {
                    acc[j] += z * d[j];
                }
            }
        }
    }

    static float[] unitGauss(SplittableRandom r, int dim) {
        float[] v = new float[dim];
        for (int j = 0; j < dim; j++) {
            v[j] = (float) r.nextGaussian();
        }
        return unit(v);
    }

    static float[] unit(float[] v) {
        double n = 0;
        for (float x : v) {
            n += (double) x * x;
        }
        double inv = 1 / Math.sqrt(n);
        float[] u = new float[v.length];
        for (int j = 0; j < v.length; j++) {
            u[j] = (float) (v[j] * inv);
        }
        return u;
    }

    /** Real embeddings: label, embedding (unit), and the LFW role. */
    record Real(String label, float[] e, boolean devTest) {
    }

    /** Enrolled records: synthetic identities 0..n/per-1 ("s<id>"), then the real enrolled embeddings. */
    static Iterable<HnswGallery.Entry> records(Synth s, int n, List<Real> realEnrolled) {
        return () -> new Iterator<>() {
            int id = 0, e = 0, real = 0;
            float[][] cur;
            final int ids = n / s.per();

            @Override
            public boolean hasNext() {
                return id < ids || real < realEnrolled.size();
            }

            @Override
            public HnswGallery.Entry next() {
                if (id < ids) {
                    if (cur == null) {
                        cur = s.identity(id);
                    }
                    HnswGallery.Entry x = new HnswGallery.Entry("s" + id, cur[e]);
                    if (++e == s.per()) {
                        e = 0;
                        id++;
                        cur = null;
                    }
                    return x;
                }
                if (real < realEnrolled.size()) {
                    Real r = realEnrolled.get(real++);
                    return new HnswGallery.Entry(r.label(), r.e());
                }
                throw new NoSuchElementException();
            }
        };
    }

    // ------------------------------------------------------------------ exact reference

    /** Exact top-K identities per query, streaming over the records (max cosine per identity), two threads. */
    static List<List<Identifier.Match>> exact(Synth s, int n, List<Real> realEnrolled, float[][] queries, int threads)
            throws InterruptedException {
        @SuppressWarnings("unchecked")
        List<Identifier.Match>[] out = new List[queries.length];
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int lo = queries.length * t / threads, hi = queries.length * (t + 1) / threads;
            ts[t] = new Thread(() -> exactRange(s, n, realEnrolled, queries, lo, hi, out));
            ts[t].start();
        }
        for (Thread t : ts) {
            t.join();
        }
        return Arrays.asList(out);
    }

    private static void exactRange(Synth s, int n, List<Real> realEnrolled, float[][] qs, int lo, int hi,
                                   List<Identifier.Match>[] out) {
        int nq = hi - lo;
        List<PriorityQueue<Identifier.Match>> heaps = new ArrayList<>();
        for (int i = 0; i < nq; i++) {
            heaps.add(new PriorityQueue<>((a, b) -> a.score() != b.score() ? Double.compare(a.score(), b.score())
                    : b.label().compareTo(a.label())));
        }
        double[] best = new double[nq];
        int ids = n / s.per();
        for (int id = 0; id < ids; id++) {
            offer(s.identity(id), "s" + id, qs, lo, hi, heaps, best);
        }
        Map<String, List<float[]>> byLabel = new LinkedHashMap<>();
        for (Real r : realEnrolled) {
            byLabel.computeIfAbsent(r.label(), x -> new ArrayList<>()).add(r.e());
        }
        for (Map.Entry<String, List<float[]>> e : byLabel.entrySet()) {
            offer(e.getValue().toArray(new float[0][]), e.getKey(), qs, lo, hi, heaps, best);
        }
        for (int i = 0; i < nq; i++) {
            List<Identifier.Match> l = new ArrayList<>(heaps.get(i));
            l.sort((a, b) -> a.score() != b.score() ? Double.compare(b.score(), a.score())
                    : a.label().compareTo(b.label()));
            out[lo + i] = l;
        }
    }

    private static void offer(float[][] vs, String label, float[][] qs, int lo, int hi,
                              List<PriorityQueue<Identifier.Match>> heaps, double[] best) {
        Arrays.fill(best, Double.NEGATIVE_INFINITY);
        for (float[] v : vs) {
            for (int i = lo; i < hi; i++) {
                double d = dot(v, qs[i]);
                if (d > best[i - lo]) {
                    best[i - lo] = d;
                }
            }
        }
        for (int i = 0; i < hi - lo; i++) {
            PriorityQueue<Identifier.Match> h = heaps.get(i);
            if (h.size() < K || best[i] > h.peek().score()) {
                h.add(new Identifier.Match(label, best[i]));
                if (h.size() > K) {
                    h.poll();
                }
            }
        }
    }

    /** Dot product with 8 accumulators (float products summed in double, as the gallery's unit rows). */
    static double dot(float[] a, float[] b) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int j = 0;
        for (; j + 8 <= a.length; j += 8) {
            s0 += a[j] * b[j];
            s1 += a[j + 1] * b[j + 1];
            s2 += a[j + 2] * b[j + 2];
            s3 += a[j + 3] * b[j + 3];
            s4 += a[j + 4] * b[j + 4];
            s5 += a[j + 5] * b[j + 5];
            s6 += a[j + 6] * b[j + 6];
            s7 += a[j + 7] * b[j + 7];
        }
        double s = (double) s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
        for (; j < a.length; j++) {
            s += a[j] * b[j];
        }
        return s;
    }

    // ------------------------------------------------------------------ measures

    static double recallAt(List<Identifier.Match> want, List<Identifier.Match> got, int k) {
        if (k == 1) {
            return !got.isEmpty() && got.get(0).label().equals(want.get(0).label()) ? 1 : 0;
        }
        int hit = 0;
        for (int i = 0; i < Math.min(k, want.size()); i++) {
            String l = want.get(i).label();
            for (int j = 0; j < Math.min(k, got.size()); j++) {
                if (got.get(j).label().equals(l)) {
                    hit++;
                    break;
                }
            }
        }
        return (double) hit / Math.min(k, want.size());
    }

    /**
     * Open-set identification on probes: rank-1 (closed-set, genuine probes), DIR@FAR (threshold so that a fraction
     * FAR of impostor probes' best scores reach it; DIR = genuine probes identified correctly at rank 1 with a score
     * at or above it).
     */
    static Map<String, Object> identification(List<List<Identifier.Match>> results, List<String> truth,
                                              double[] fars) {
        List<Double> impostor = new ArrayList<>();
        int genuine = 0, rank1 = 0;
        for (int i = 0; i < truth.size(); i++) {
            if (truth.get(i) == null) {
                impostor.add(results.get(i).get(0).score());
            } else {
                genuine++;
                if (results.get(i).get(0).label().equals(truth.get(i))) {
                    rank1++;
                }
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("genuine_probes", genuine);
        m.put("impostor_probes", impostor.size());
        m.put("rank1", (double) rank1 / genuine);
        double[] imp = impostor.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        for (double far : fars) {
            // smallest threshold t with #(impostor >= t) <= far * n: just above the (n - floor(far*n))-th score
            int allowed = (int) Math.floor(far * imp.length);
            double t = allowed >= imp.length ? -1 : Math.nextUp(imp[imp.length - 1 - allowed]);
            int ok = 0;
            for (int i = 0; i < truth.size(); i++) {
                if (truth.get(i) != null) {
                    Identifier.Match top = results.get(i).get(0);
                    if (top.label().equals(truth.get(i)) && top.score() >= t) {
                        ok++;
                    }
                }
            }
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("threshold", t);
            d.put("dir", (double) ok / genuine);
            m.put(String.format(Locale.ROOT, "far_%g", far), d);
        }
        return m;
    }

    static long[] memory() throws IOException {
        long rss = -1, anon = -1, file = -1;
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = kb(line);
            } else if (line.startsWith("RssAnon:")) {
                anon = kb(line);
            } else if (line.startsWith("RssFile:")) {
                file = kb(line);
            }
        }
        return new long[] {rss, anon, file};
    }

    private static long kb(String line) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024L;
    }

    static long heapUsedAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    static void deleteTree(Path p) throws IOException {
        if (Files.exists(p)) {
            try (Stream<Path> w = Files.walk(p)) {
                for (Path q : w.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(q);
                }
            }
        }
    }

    static String loadavg() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (IOException e) {
            return "?";
        }
    }

    // ------------------------------------------------------------------ LFW embeddings

    static void embedLfw(Path model, Path lfw, Path output, int batch) throws Exception {
        Path root = lfw.resolve("lfw-deepfunneled");
        java.util.Set<String> devTest = new java.util.HashSet<>();
        List<String> lines = Files.readAllLines(lfw.resolve("peopleDevTest.txt"));
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 2) {
                devTest.add(f[0]);
            }
        }
        List<Path> files = new ArrayList<>();
        try (Stream<Path> people = Files.list(root)) {
            for (Path p : people.filter(Files::isDirectory).sorted().toList()) {
                try (Stream<Path> imgs = Files.list(p)) {
                    files.addAll(imgs.filter(f -> f.toString().endsWith(".jpg")).sorted().toList());
                }
            }
        }
        long t0 = System.nanoTime();
        try (FaceEmbedder emb = FaceEmbedder.builder().setModelPath(model).build();
             DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(output)))) {
            out.writeUTF(ModelId.of(emb));
            out.writeInt(files.size());
            out.writeInt(emb.embeddingDim());
            for (int i = 0; i < files.size(); i += batch) {
                List<Path> chunk = files.subList(i, Math.min(files.size(), i + batch));
                List<BufferedImage> imgs = new ArrayList<>();
                for (Path f : chunk) {
                    imgs.add(Images.read(f));
                }
                float[][] e = emb.embed(imgs, chunk.stream().map(Path::toString).toList());
                for (int j = 0; j < chunk.size(); j++) {
                    String person = chunk.get(j).getParent().getFileName().toString();
                    out.writeUTF(person);
                    out.writeUTF(chunk.get(j).getFileName().toString());
                    out.writeBoolean(devTest.contains(person));
                    for (float x : e[j]) {
                        out.writeFloat(x);
                    }
                }
                if ((i / batch) % 20 == 0) {
                    System.err.printf(Locale.ROOT, "embedded %d/%d%n", i + chunk.size(), files.size());
                }
            }
        }
        System.err.printf(Locale.ROOT, "embedded %d images in %.1f s%n", files.size(), (System.nanoTime() - t0) / 1e9);
    }

    /** LFW split: [enrolled, probes]; truth.get(i) = person for genuine probes, null for impostor probes. */
    record LfwSplit(String modelId, List<Real> enrolled, List<float[]> probes, List<String> truth, int dim,
            List<List<float[]>> devTestPeople) {
    }

    static LfwSplit readLfw(Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            String model = in.readUTF();
            int n = in.readInt(), dim = in.readInt();
            Map<String, List<Real>> byPerson = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                String person = in.readUTF();
                in.readUTF();
                boolean dt = in.readBoolean();
                float[] e = new float[dim];
                for (int j = 0; j < dim; j++) {
                    e[j] = in.readFloat();
                }
                byPerson.computeIfAbsent(person, x -> new ArrayList<>()).add(new Real("lfw:" + person, unit(e), dt));
            }
            List<Real> enrolled = new ArrayList<>();
            List<float[]> probes = new ArrayList<>();
            List<String> truth = new ArrayList<>();
            List<List<float[]>> devTestPeople = new ArrayList<>();
            for (List<Real> imgs : byPerson.values()) {
                Real first = imgs.get(0);
                if (first.devTest()) {
                    devTestPeople.add(imgs.stream().map(Real::e).toList());
                }
                if (first.devTest() && imgs.size() == 1) {
                    probes.add(first.e()); // open-set impostor: this person is never enrolled
                    truth.add(null);
                    continue;
                }
                enrolled.add(first);
                if (first.devTest()) {
                    for (Real r : imgs.subList(1, imgs.size())) {
                        probes.add(r.e());
                        truth.add(r.label());
                    }
                }
            }
            return new LfwSplit(model, enrolled, probes, truth, dim, devTestPeople);
        }
    }

    // ------------------------------------------------------------------ main

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + args[i]);
            }
            String key = args[i].substring(2);
            if (key.equals("embed-lfw") || key.equals("no-lfw-only") || key.equals("no-merge")) {
                a.put(key, "true");
            } else {
                a.put(key, args[++i]);
            }
        }
        if (a.containsKey("embed-lfw")) {
            embedLfw(Path.of(a.get("model")), Path.of(a.get("lfw")), Path.of(a.get("output")),
                    Integer.parseInt(a.getOrDefault("batch", "64")));
            return;
        }
        int[] sizes = Arrays.stream(a.getOrDefault("sizes", "100000").split(",")).mapToInt(Integer::parseInt).toArray();
        String[] encodings = a.getOrDefault("encodings", "float32,int7").split(",");
        int[] fanouts = Arrays.stream(a.getOrDefault("fanouts", "50,100,200").split(",")).mapToInt(Integer::parseInt)
                .toArray();
        int dim = Integer.parseInt(a.getOrDefault("dim", "512")); // --lfw-embeddings without --dim: the model's
        int per = Integer.parseInt(a.getOrDefault("per-identity", "5"));
        int nGenuine = Integer.parseInt(a.getOrDefault("queries", "400"));
        int nStranger = Integer.parseInt(a.getOrDefault("strangers", "100"));
        int maxLfwProbes = Integer.parseInt(a.getOrDefault("max-lfw-probes", "1000000"));
        int m = Integer.parseInt(a.getOrDefault("m", "" + HnswGallery.DEFAULT_MAX_CONN));
        int beam = Integer.parseInt(a.getOrDefault("beam", "" + HnswGallery.DEFAULT_BEAM_WIDTH));
        int threads = Integer.parseInt(a.getOrDefault("threads", "2"));
        // --segments N: merge the built index to N segments (0 = --no-merge); --search-threads 1,2: measure every
        // beam once per value, each in its own freshly opened index (Options.searchThreads: segments in parallel)
        int segments = a.containsKey("no-merge") ? 0 : Integer.parseInt(a.getOrDefault("segments", "1"));
        int[] searchThreads = Arrays.stream(a.getOrDefault("search-threads", "1").split(","))
                .mapToInt(Integer::parseInt).toArray();
        double ram = Double.parseDouble(a.getOrDefault("ram-mb", "1024"));
        long seed = Long.parseLong(a.getOrDefault("seed", "17"));
        int galleryCheck = Integer.parseInt(a.getOrDefault("gallery-check", "300000"));
        Path out = Path.of(a.get("out"));
        Path work = Path.of(a.get("work"));
        Files.createDirectories(out);
        Files.createDirectories(work);

        LfwSplit lfw = a.containsKey("lfw-embeddings") ? readLfw(Path.of(a.get("lfw-embeddings"))) : null;
        if (lfw != null && !a.containsKey("dim")) {
            dim = lfw.dim();
        }
        if (lfw != null && lfw.dim() != dim) {
            throw new IllegalArgumentException("LFW embeddings are " + lfw.dim() + "-d, --dim is " + dim);
        }
        int latent = Integer.parseInt(a.getOrDefault("latent", "64"));
        // --synthetic latent (default): centres in a random 64-d subspace, isotropic within it; --synthetic fit:
        // centres and within-identity spread fitted to the real LFW DevTest embeddings (Fit), so the synthetic
        // vectors surround the real ones as a one-model gallery's would
        String synthetic = a.getOrDefault("synthetic", "latent");
        int fitTerms = Integer.parseInt(a.getOrDefault("fit-terms", "64"));
        Synth s;
        if (synthetic.equals("fit")) {
            if (lfw == null) {
                throw new IllegalArgumentException("--synthetic fit needs --lfw-embeddings");
            }
            s = Synth.fitted(seed, dim, per, Fit.of(lfw.devTestPeople(), fitTerms));
        } else if (synthetic.equals("latent")) {
            s = Synth.of(seed, dim, per, latent);
        } else {
            throw new IllegalArgumentException("--synthetic must be latent or fit, got " + synthetic);
        }
        {
            // the synthetic distribution itself: genuine and impostor cosines of probes vs enrolled embeddings
            SplittableRandom cr = new SplittableRandom(seed + 7);
            double gs = 0, gs2 = 0, is = 0, is2 = 0;
            int np = 2000;
            for (int i = 0; i < np; i++) {
                int id = cr.nextInt(1_000_000), other = cr.nextInt(1_000_000);
                float[] p = s.probe(id, 1_000_000 + i);
                double g = dot(p, s.identity(id)[0]), im = dot(p, s.identity(other == id ? id + 1 : other)[0]);
                gs += g;
                gs2 += g * g;
                is += im;
                is2 += im * im;
            }
            Map<String, Object> cs = new LinkedHashMap<>();
            cs.put("pairs", np);
            cs.put("genuine_mean", gs / np);
            cs.put("genuine_std", Math.sqrt(gs2 / np - (gs / np) * (gs / np)));
            cs.put("impostor_mean", is / np);
            cs.put("impostor_std", Math.sqrt(is2 / np - (is / np) * (is / np)));
            cs.put("synthetic", synthetic);
            if (synthetic.equals("fit")) {
                cs.put("fit_terms", fitTerms);
                cs.put("fit_people", s.fit().centres().length);
                cs.put("fit_images", s.fit().deviations().length);
            } else {
                cs.put("latent_dim_of_centres", latent);
            }
            if (lfw != null) {
                // the same statistics of the real embeddings: each DevTest person's first two images (genuine) and
                // the first images of two different DevTest people (impostor)
                List<List<float[]>> ppl = lfw.devTestPeople();
                double rg = 0, rg2 = 0, ri = 0, ri2 = 0;
                int ng = 0;
                for (List<float[]> imgs : ppl) {
                    if (imgs.size() >= 2) {
                        double g = dot(imgs.get(0), imgs.get(1));
                        rg += g;
                        rg2 += g * g;
                        ng++;
                    }
                }
                for (int i = 0; i < np; i++) {
                    int x = cr.nextInt(ppl.size()), y = cr.nextInt(ppl.size() - 1);
                    double im = dot(ppl.get(x).get(0), ppl.get(y >= x ? y + 1 : y).get(0));
                    ri += im;
                    ri2 += im * im;
                }
                cs.put("real_genuine_pairs", ng);
                cs.put("real_genuine_mean", rg / ng);
                cs.put("real_genuine_std", Math.sqrt(rg2 / ng - (rg / ng) * (rg / ng)));
                cs.put("real_impostor_pairs", np);
                cs.put("real_impostor_mean", ri / np);
                cs.put("real_impostor_std", Math.sqrt(ri2 / np - (ri / np) * (ri / np)));
            }
            BenchSupport.writeJson(out.resolve("synthetic-cosines.json"), cs);
            System.err.println("synthetic cosines: " + cs);
        }
        List<Integer> runSizes = new ArrayList<>();
        if (lfw != null && !a.containsKey("no-lfw-only")) {
            runSizes.add(0); // the LFW gallery alone
        }
        for (int n : sizes) {
            runSizes.add(n);
        }
        for (int n : runSizes) {
            // queries: synthetic genuine probes, synthetic strangers, then LFW probes (when mixed in)
            List<float[]> qs = new ArrayList<>();
            List<String> truth = new ArrayList<>();
            int ids = n / per;
            SplittableRandom qr = new SplittableRandom(seed + 99);
            if (n > 0) {
                for (int i = 0; i < nGenuine; i++) {
                    int id = qr.nextInt(ids);
                    qs.add(s.probe(id, i));
                    truth.add("s" + id);
                }
                for (int i = 0; i < nStranger; i++) {
                    qs.add(s.stranger(i));
                    truth.add(null);
                }
            }
            int synthQueries = qs.size();
            List<Real> realEnrolled = lfw == null ? List.of() : lfw.enrolled();
            if (lfw != null) {
                int step = Math.max(1, (lfw.probes().size() + maxLfwProbes - 1) / maxLfwProbes);
                for (int i = 0; i < lfw.probes().size(); i += step) {
                    qs.add(lfw.probes().get(i));
                    truth.add(lfw.truth().get(i));
                }
            }
            float[][] queries = qs.toArray(new float[0][]);
            long total = (long) ids * per + realEnrolled.size();
            System.err.printf(Locale.ROOT, "[%s] size %d (+%d real): exact top-%d of %d queries...%n",
                    java.time.LocalTime.now(), n, realEnrolled.size(), K, queries.length);
            long te = System.nanoTime();
            List<List<Identifier.Match>> exact = exact(s, n, realEnrolled, queries, threads);
            double exactSeconds = (System.nanoTime() - te) / 1e9;

            Map<String, Object> gallery = new LinkedHashMap<>();
            if (total <= galleryCheck) {
                // the reference Gallery itself on a sample: same top-10 as the streamed scan, and its latency
                Gallery.Builder gb = Gallery.builder(dim);
                for (HnswGallery.Entry e : records(s, n, realEnrolled)) {
                    gb.add(e.identity(), e.embedding());
                }
                Gallery g = gb.build();
                int sample = Math.min(50, queries.length), same = 0;
                double[] lat = new double[sample];
                for (int i = 0; i < sample; i++) {
                    long t0 = System.nanoTime();
                    List<Identifier.Match> r = g.search(queries[i], K);
                    lat[i] = (System.nanoTime() - t0) / 1e6;
                    if (r.stream().map(Identifier.Match::label).toList()
                            .equals(exact.get(i).stream().map(Identifier.Match::label).toList())) {
                        same++;
                    }
                }
                gallery.put("queries", sample);
                gallery.put("same_top10_as_streamed_scan", same);
                gallery.put("latency_ms_p50", BenchSupport.median(lat));
                gallery.put("latency_ms_p99", BenchSupport.percentile(lat, 99));
                gallery.put("heap_bytes_per_vector_float32_matrix", 4L * dim);
                g = null;
                gb = null;
            }
            for (String encName : encodings) {
                HnswGallery.Encoding enc = HnswGallery.Encoding.valueOf(encName.toUpperCase(Locale.ROOT));
                Path dirIdx = work.resolve("idx-" + n + "-" + enc.id());
                deleteTree(dirIdx);
                HnswGallery.Options o = HnswGallery.Options.defaults().withEncoding(enc).withGraph(m, beam)
                        .withThreads(threads).withRamBufferMb(ram);
                String load0 = loadavg();
                System.err.printf(Locale.ROOT, "[%s] size %d %s: building (load %s)...%n", java.time.LocalTime.now(),
                        n, enc.id(), load0);
                long t0 = System.nanoTime();
                double addSeconds, mergeSeconds;
                try (HnswGallery.BulkBuilder b = HnswGallery.bulkBuilder(dirIdx, dim,
                        lfw != null ? lfw.modelId() : "synthetic", "synthetic clustered unit vectors", o)) {
                    b.addAll(records(s, n, realEnrolled));
                    addSeconds = (System.nanoTime() - t0) / 1e9;
                    long t1 = System.nanoTime();
                    b.finish(segments);
                    mergeSeconds = (System.nanoTime() - t1) / 1e9;
                }
                long disk = HnswGallery.diskBytes(dirIdx);
                Map<String, Long> files = new TreeMap<>();
                try (Stream<Path> fs = Files.list(dirIdx)) {
                    for (Path f : fs.toList()) {
                        String name = f.getFileName().toString();
                        String ext = name.contains(".") ? name.substring(name.lastIndexOf('.') + 1) : name;
                        files.merge(ext, Files.size(f), Long::sum);
                    }
                }
                long heap0 = heapUsedAfterGc();
                long[] mem0 = memory();
                Map<String, Object> run = new LinkedHashMap<>();
                run.put("synthetic_vectors", (long) ids * per);
                run.put("synthetic_identities", ids);
                run.put("real_enrolled", realEnrolled.size());
                run.put("vectors", total);
                run.put("dim", dim);
                run.put("per_identity", per);
                run.put("synthetic", synthetic);
                run.put("latent_dim_of_centres", synthetic.equals("fit") ? null : latent);
                run.put("encoding", enc.id());
                run.put("java_version", Runtime.version().toString());
                run.put("lucene_version", org.apache.lucene.util.Version.LATEST.toString());
                run.put("jdk_incubator_vector", ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent());
                run.put("hnsw_m", m);
                run.put("hnsw_beam_width", beam);
                run.put("threads", threads);
                run.put("force_merge_to_one_segment", segments == 1);
                run.put("force_merge_to_segments", segments);
                run.put("ram_buffer_mb", ram);
                run.put("loadavg_before_build", load0);
                run.put("build_add_seconds", addSeconds);
                run.put("build_merge_seconds", mergeSeconds);
                run.put("build_vectors_per_second", total / (addSeconds + mergeSeconds));
                run.put("disk_bytes", disk);
                run.put("disk_bytes_per_vector", (double) disk / total);
                run.put("disk_bytes_by_extension", files);
                run.put("exact_scan_seconds_all_queries_2_threads", exactSeconds);
                run.put("reference_gallery_check", gallery);
                List<Map<String, Object>> perFanout = new ArrayList<>();
                for (int st : searchThreads) {
                    try (HnswGallery g = HnswGallery.open(dirIdx, false, o.withSearchThreads(st))) {
                        long heap1 = heapUsedAfterGc();
                        if (st == searchThreads[0]) {
                            run.put("heap_bytes_after_open", heap1 - heap0);
                            run.put("segments", g.stats().segments());
                        }
                        // warm-up: one pass at the largest beam (pages the graph and vectors in)
                        for (float[] q : queries) {
                            g.search(q, K, fanouts[fanouts.length - 1]);
                        }
                        for (int fan : fanouts) {
                            List<List<Identifier.Match>> got = new ArrayList<>();
                            double[] lat = new double[queries.length];
                            for (int i = 0; i < queries.length; i++) {
                                long q0 = System.nanoTime();
                                got.add(g.search(queries[i], K, fan));
                                lat[i] = (System.nanoTime() - q0) / 1e6;
                            }
                            double r1 = 0, r10 = 0, r1s = 0, r10s = 0;
                            for (int i = 0; i < queries.length; i++) {
                                double x1 = recallAt(exact.get(i), got.get(i), 1), x10 = recallAt(exact.get(i), got.get(i), K);
                                r1 += x1;
                                r10 += x10;
                                if (i < synthQueries) {
                                    r1s += x1;
                                    r10s += x10;
                                }
                            }
                            Map<String, Object> f = new LinkedHashMap<>();
                            f.put("fanout", fan);
                            f.put("search_threads", st);
                            f.put("queries", queries.length);
                            f.put("recall_at_1", r1 / queries.length);
                            f.put("recall_at_10", r10 / queries.length);
                            if (synthQueries > 0) {
                                f.put("synthetic_recall_at_1", r1s / synthQueries);
                                f.put("synthetic_recall_at_10", r10s / synthQueries);
                            }
                            f.put("latency_ms_p50", BenchSupport.median(lat));
                            f.put("latency_ms_p99", BenchSupport.percentile(lat, 99));
                            f.put("latency_ms_mean", Arrays.stream(lat).average().orElse(Double.NaN));
                            f.put("loadavg", loadavg());
                            if (lfw != null) {
                                f.put("lfw_index", identification(got.subList(synthQueries, queries.length),
                                        truth.subList(synthQueries, queries.length), new double[] {0.01, 0.1}));
                            }
                            if (synthQueries > 0) {
                                f.put("synthetic_index", identification(got.subList(0, synthQueries),
                                        truth.subList(0, synthQueries), new double[] {0.01}));
                            }
                            perFanout.add(f);
                            System.err.printf(Locale.ROOT, "[%s]   fanout %d, %d search thread(s): recall@1 %.4f recall@10"
                                            + " %.4f p50 %.2f ms p99 %.2f ms%n", java.time.LocalTime.now(), fan, st,
                                    r1 / queries.length,
                                    r10 / queries.length, BenchSupport.median(lat), BenchSupport.percentile(lat, 99));
                        }
                        long[] mem1 = memory();
                        run.put("rss_bytes", mem1[0]);
                        run.put("rss_anon_bytes", mem1[1]);
                        run.put("rss_file_bytes", mem1[2]);
                        run.put("rss_file_bytes_growth_during_search", mem1[2] - mem0[2]);
                        run.put("rss_file_bytes_per_vector", (double) mem1[2] / total);
                        run.put("heap_max_bytes", Runtime.getRuntime().maxMemory());
                    }
                }
                run.put("search", perFanout);
                if (lfw != null) {
                    run.put("lfw_exact", identification(exact.subList(synthQueries, queries.length),
                            truth.subList(synthQueries, queries.length), new double[] {0.01, 0.1}));
                }
                if (synthQueries > 0) {
                    run.put("synthetic_exact", identification(exact.subList(0, synthQueries),
                            truth.subList(0, synthQueries), new double[] {0.01}));
                }
                run.put("loadavg_after", loadavg());
                BenchSupport.writeJson(out.resolve("run-" + n + "-" + enc.id() + ".json"), run);
                deleteTree(dirIdx);
            }
        }
    }
}
