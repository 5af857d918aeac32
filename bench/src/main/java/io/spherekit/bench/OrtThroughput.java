package io.spherekit.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.spherekit.core.io.AtomicFiles;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.LargeStack;
import io.spherekit.runtime.Provider;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * ONNX Runtime throughput through the SDK ({@link FaceEmbedder#embedTensor}) on a chosen provider, for the GPU
 * script (and its CPU fallback). Per batch size: {@code --warmup} calls, then {@code --iters} timed calls;
 * reports median images/s and p50/p99 latency per call. It is also the Java side of the ORT-Java vs Python ORT
 * comparison in {@code run-all.sh} (stage {@code ort-python}): the same loop as {@code cross_engine.py ort} (warm-up
 * calls, then timed calls, median), the same model, the same intra-op threads, ORT's default graph optimisation
 * (ALL) and execution mode (sequential) on both sides.
 *
 * <pre>OrtThroughput --model m.onnx [--provider cpu|cuda|auto] [--batches 1,32,256] [--iters 20] [--iters1 N]
 *               [--warmup 3] [--threads N] [--label fp32] [--json FILE]</pre>
 * {@code --iters1}: timed calls at batch 1 (default {@code --iters}); {@code --threads 0} = ORT's default.
 * {@code --provider cuda} fails (exit 1) when the CUDA provider cannot be loaded, instead of silently using the CPU.
 */
public final class OrtThroughput {
    private OrtThroughput() {
    }

    public static void main(String[] args) throws Exception {
        Path model = null;
        Provider provider = Provider.CPU;
        List<Integer> batches = List.of(1, 32, 256);
        int iters = 20;
        int iters1 = -1;
        int warmup = 3;
        int threads = 0;
        String label = "";
        Path json = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> model = Path.of(args[++i]);
                case "--provider" -> provider = Provider.valueOf(args[++i].toUpperCase(Locale.ROOT));
                case "--batches" -> {
                    List<Integer> b = new ArrayList<>();
                    for (String s : args[++i].split(",")) {
                        b.add(Integer.parseInt(s.trim()));
                    }
                    batches = b;
                }
                case "--iters" -> iters = Integer.parseInt(args[++i]);
                case "--iters1" -> iters1 = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--label" -> label = args[++i];
                case "--json" -> json = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (model == null) {
            throw new IllegalArgumentException("--model is required");
        }
        Map<String, Object> r = new LinkedHashMap<>();
        try (FaceEmbedder e = FaceEmbedder.builder().setModelPath(model).optProvider(provider)
                .optIntraOpThreads(threads).build()) {
            r.put("engine", "ort-java");
            r.put("onnxruntime", LargeStack.environment().getVersion());
            r.put("intra_op_threads", threads == 0 ? "default" : threads);
            r.put("model", model.toString());
            r.put("label", label);
            r.put("provider_requested", provider.name());
            r.put("provider", e.provider().name());
            r.put("provider_reason", e.providerReason());
            List<Map<String, Object>> rows = new ArrayList<>();
            for (int b : batches) {
                float[] x = BenchSupport.images(b, 11);
                for (int i = 0; i < warmup; i++) {
                    e.embedTensor(x, b);
                }
                int n = b == 1 && iters1 > 0 ? iters1 : iters;
                double[] sec = new double[n];
                for (int i = 0; i < n; i++) {
                    long t0 = System.nanoTime();
                    e.embedTensor(x, b);
                    sec[i] = (System.nanoTime() - t0) / 1e9;
                }
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("batch", b);
                row.put("iters", n);
                row.put("images_per_second", b / BenchSupport.median(sec));
                row.put("p50_ms", BenchSupport.percentile(sec, 50) * 1e3);
                row.put("p99_ms", BenchSupport.percentile(sec, 99) * 1e3);
                rows.add(row);
                System.err.printf(Locale.ROOT, "[ort-java %s %s] batch %d: %.1f img/s, p50 %.2f ms, p99 %.2f ms%n",
                        e.provider(), label, b, row.get("images_per_second"), row.get("p50_ms"), row.get("p99_ms"));
            }
            r.put("results", rows);
        }
        r.put("peak_rss_bytes", BenchSupport.peakRssBytes());
        String s = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(r);
        System.out.println(s);
        if (json != null) {
            BenchSupport.writeJson(json, r);
        }
    }
}
