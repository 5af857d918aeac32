package io.spherekit.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Native-memory bench (not a test; skipped unless {@code -Dspherekit.churn.out=FILE.json}): builds and closes a
 * {@link FaceEmbedder} on a test model ({@code spherekit.churn.dim}-d output, default 256: a 22 MB weight, the size
 * of SphereFace-20's) {@code spherekit.churn.n} times (default 200) and records this JVM's
 * VmRSS (from {@code /proc/self/status}, in MiB) before the first build and after every 25th close. Run by
 * {@code bench/reliability.sh}.
 */
class EmbedderChurnBench {

    @TempDir
    Path dir;

    static long rssKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no VmRSS in /proc/self/status");
    }

    static Map<String, Object> sample(int builds) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("builds", builds);
        m.put("rss_mib", Math.round(rssKib() / 102.4) / 10.0);
        return m;
    }

    @Test
    @EnabledIfSystemProperty(named = "spherekit.churn.out", matches = ".+")
    void churn() throws Exception {
        int n = Integer.getInteger("spherekit.churn.n", 200);
        int d = Integer.getInteger("spherekit.churn.dim", 256); // 256: a 22 MB Gemm weight, like SphereFace-20's 24 MB
        Preprocessing pre = Preprocessing.fullImage(112, 96, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB);
        Map<String, String> md = new HashMap<>(pre.toMetadata());
        Path model = TestModelsAccess.standard(dir.resolve("churn.onnx"), 112, 96, d, md);
        List<Map<String, Object>> samples = new ArrayList<>();
        samples.add(sample(0));
        for (int i = 1; i <= n; i++) {
            try (FaceEmbedder e = FaceEmbedder.builder().setModelPath(model).optProvider(Provider.CPU).build()) {
                e.embeddingDim();
            }
            if (i % 25 == 0 || i == n) {
                samples.add(sample(i));
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("what", "build + close a FaceEmbedder (CPU, test model 1x3x112x96 -> " + d + "-d, "
                + Files.size(model) / (1 << 20) + " MiB) n times; VmRSS of this JVM");
        out.put("n", n);
        out.put("large_stack", System.getProperty("spherekit.churn.label", ""));
        out.put("malloc_arena_max", String.valueOf(System.getenv("MALLOC_ARENA_MAX")));
        out.put("samples", samples);
        String json = new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(out) + "\n";
        AtomicFiles.writeString(Path.of(System.getProperty("spherekit.churn.out")), json);
        System.out.print(json);
    }
}
