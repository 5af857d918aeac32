package io.spherekit.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.spherekit.core.Images;
import io.spherekit.core.Similarity;
import io.spherekit.core.cli.LfwLocation;
import io.spherekit.core.eval.PairList;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.LargeStack;
import io.spherekit.runtime.Provider;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * int8 vs float32 side by side through the SDK ({@link FaceEmbedder}, CPU, ONNX Runtime's default threads and
 * optimisation): per model pair, images/s at batch 32 and batch 1 with fp32 and int8 interleaved in each of
 * {@code --repeats} rounds (median over the rounds of each round's median call), then the cosine between the int8
 * and fp32 embeddings of every pairsDevTest image (min, mean). {@code --profile DIR} also writes one ONNX Runtime
 * profile (SessionOptions.enableProfiling) per model at batch 32 into DIR.
 *
 * <pre>Int8Bench --pair LABEL=FP32.onnx,INT8.onnx ... [--lfw DIR] [--repeats 3] [--iters32 10] [--iters1 60]
 *           [--profile DIR] --json FILE</pre>
 */
public final class Int8Bench {
    private Int8Bench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, Path[]> pairs = new LinkedHashMap<>();
        Path lfw = null;
        Path json = null;
        Path profile = null;
        int repeats = 3;
        int iters32 = 10;
        int iters1 = 60;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--pair" -> {
                    String[] kv = args[++i].split("=", 2);
                    String[] f = kv[1].split(",");
                    pairs.put(kv[0], new Path[]{Path.of(f[0]), Path.of(f[1])});
                }
                case "--lfw" -> lfw = Path.of(args[++i]);
                case "--json" -> json = Path.of(args[++i]);
                case "--profile" -> profile = Path.of(args[++i]);
                case "--repeats" -> repeats = Integer.parseInt(args[++i]);
                case "--iters32" -> iters32 = Integer.parseInt(args[++i]);
                case "--iters1" -> iters1 = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (pairs.isEmpty() || json == null) {
            throw new IllegalArgumentException("need --pair LABEL=FP32,INT8 and --json FILE");
        }
        Path root = LfwLocation.resolve(lfw);
        List<Path> faces = PairList.read(root.resolve("pairsDevTest.txt"), root.resolve("lfw-deepfunneled")).distinctImages();
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("onnxruntime", LargeStack.environment().getVersion());
        report.put("repeats", repeats);
        report.put("timing", "per round: 3 (batch 32) / 10 (batch 1) warm-up calls, then " + iters32 + " / " + iters1
                + " timed calls, median; fp32 and int8 alternate within each round; reported: median over rounds");
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Map.Entry<String, Path[]> e : pairs.entrySet()) {
            Path fp32 = e.getValue()[0];
            Path int8 = e.getValue()[1];
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("model", e.getKey());
            row.put("fp32", fp32.toString());
            row.put("int8", int8.toString());
            try (FaceEmbedder a = FaceEmbedder.builder().setModelPath(fp32).optProvider(Provider.CPU).build();
                 FaceEmbedder b = FaceEmbedder.builder().setModelPath(int8).optProvider(Provider.CPU).build()) {
                for (int batch : new int[]{32, 1}) {
                    float[] x = BenchSupport.images(batch, 11);
                    int iters = batch == 1 ? iters1 : iters32;
                    int warm = batch == 1 ? 10 : 3;
                    double[] fa = new double[repeats];
                    double[] fb = new double[repeats];
                    for (int r = 0; r < repeats; r++) {
                        fa[r] = rate(a, x, batch, warm, iters);
                        fb[r] = rate(b, x, batch, warm, iters);
                        System.err.printf(Locale.ROOT, "[int8 %s] round %d batch %d: fp32 %.1f img/s, int8 %.1f img/s%n",
                                e.getKey(), r + 1, batch, fa[r], fb[r]);
                    }
                    Map<String, Object> s = new LinkedHashMap<>();
                    s.put("fp32_images_per_second", BenchSupport.median(fa));
                    s.put("int8_images_per_second", BenchSupport.median(fb));
                    s.put("speedup", BenchSupport.median(fb) / BenchSupport.median(fa));
                    s.put("fp32_rounds", fa);
                    s.put("int8_rounds", fb);
                    row.put("batch" + batch, s);
                }
                double min = 1;
                double sum = 0;
                String worst = null;
                int size = a.preprocessing().tensorSize();
                for (int start = 0; start < faces.size(); start += 32) {
                    int n = Math.min(32, faces.size() - start);
                    float[] x = new float[n * size];
                    for (int i = 0; i < n; i++) {
                        a.preprocessing().normalizeInto(a.preprocessing().cropResize(Images.read(faces.get(start + i))),
                                false, x, i * size);
                    }
                    float[][] ea = a.embedTensor(x, n);
                    float[][] eb = b.embedTensor(x, n);
                    for (int i = 0; i < n; i++) {
                        double c = Similarity.cosine(ea[i], eb[i]);
                        if (c < min) {
                            min = c;
                            worst = root.relativize(faces.get(start + i)).toString();
                        }
                        sum += c;
                    }
                }
                Map<String, Object> cos = new LinkedHashMap<>();
                cos.put("images", faces.size());
                cos.put("min", min);
                cos.put("mean", sum / faces.size());
                cos.put("worst_image", worst);
                row.put("cosine_int8_vs_fp32_pairsDevTest", cos);
                System.err.printf(Locale.ROOT, "[int8 %s] cosine to fp32 on %d pairsDevTest images: min %.5f mean %.5f%n",
                        e.getKey(), faces.size(), min, sum / faces.size());
            }
            if (profile != null) {
                row.put("profile_fp32", profileRun(fp32, profile, e.getKey() + "-fp32"));
                row.put("profile_int8", profileRun(int8, profile, e.getKey() + "-int8"));
            }
            rows.add(row);
        }
        report.put("results", rows);
        BenchSupport.writeJson(json, report);
    }

    private static double rate(FaceEmbedder e, float[] x, int batch, int warm, int iters) throws Exception {
        for (int i = 0; i < warm; i++) {
            e.embedTensor(x, batch);
        }
        double[] sec = new double[iters];
        for (int i = 0; i < iters; i++) {
            long t0 = System.nanoTime();
            e.embedTensor(x, batch);
            sec[i] = (System.nanoTime() - t0) / 1e9;
        }
        return batch / BenchSupport.median(sec);
    }

    /** 3 warm-up + 10 profiled batch-32 runs with ONNX Runtime's profiler; returns the profile file. */
    private static String profileRun(Path model, Path dir, String prefix) throws Exception {
        OrtEnvironment env = LargeStack.environment();
        return LargeStack.call("int8-profile", () -> {
            try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
                o.enableProfiling(dir.resolve(prefix).toString());
                try (OrtSession s = env.createSession(model.toString(), o)) {
                    float[] x = BenchSupport.images(32, 11);
                    String in = s.getInputNames().iterator().next();
                    try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[]{32, 3, 112, 96})) {
                        for (int i = 0; i < 13; i++) {
                            try (OrtSession.Result r = s.run(Map.of(in, t))) {
                                r.size();
                            }
                        }
                    }
                    return s.endProfiling();
                }
            }
        });
    }
}
