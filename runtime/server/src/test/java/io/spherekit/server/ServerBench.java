package io.spherekit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.core.Images;
import io.spherekit.core.Preprocessing;
import io.spherekit.runtime.Provider;
import io.spherekit.runtime.TestModelsAccess;
import io.spherekit.runtime.Verifier;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * HTTP verify throughput and latency with 8 concurrent loopback clients. A benchmark, not a test (speed targets live
 * in benchmarks, see BENCHMARKS.md); run on demand:
 * {@code java -cp runtime/target/test-classes:runtime/target/classes:$(cat runtime/target/classpath.txt)
 * [-Dspherekit.bench.model=m.onnx] [-Dspherekit.bench.requests=100] [-Dspherekit.bench.concurrency=2]
 * [-Dspherekit.bench.threads=1] io.spherekit.server.ServerBench}.
 * Without a model it uses the tiny test model at the SphereFace input size 112×96. Images are 250×250 JPEGs,
 * the size of LFW images.
 */
public final class ServerBench {

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("spherekit-serverbench");
        String given = System.getProperty("spherekit.bench.model", "");
        Path model;
        if (!given.isEmpty() && Files.isRegularFile(Path.of(given))) {
            model = Path.of(given);
        } else {
            Preprocessing pre = Preprocessing.fullImage(112, 96, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB);
            Map<String, String> md = new HashMap<>(pre.toMetadata());
            md.put(Verifier.THRESHOLD_KEY, "0.5");
            model = TestModelsAccess.standard(dir.resolve("tiny.onnx"), 112, 96, 8, md);
        }
        int perClient = Integer.getInteger("spherekit.bench.requests", 100);
        int clients = 8;
        int threads = Integer.getInteger("spherekit.bench.threads", 1);
        int concurrency = Integer.getInteger("spherekit.bench.concurrency",
                Runtime.getRuntime().availableProcessors());
        List<byte[]> faces = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            faces.add(FaceServerTest.encode(FaceServerTest.noise(100 + i, 250, 250), "jpg"));
        }
        FaceEmbedder e = FaceEmbedder.builder().setModelPath(model).optProvider(Provider.AUTO)
                .optIntraOpThreads(threads).build();
        Verifier v = e.metadata().containsKey(Verifier.THRESHOLD_KEY) ? Verifier.fromModelMetadata(e)
                : Verifier.withThreshold(e, 0.3);
        // direct SDK, one thread, for reference
        for (int i = 0; i < 20; i++) {
            v.verify(Images.read(faces.get(0), "a", 1 << 24), Images.read(faces.get(1), "b", 1 << 24));
        }
        long t = System.nanoTime();
        int direct = 100;
        for (int i = 0; i < direct; i++) {
            v.verify(Images.read(faces.get(i % 8), "a", 1 << 24), Images.read(faces.get((i + 3) % 8), "b", 1 << 24));
        }
        double directMs = (System.nanoTime() - t) / 1e6 / direct;

        FaceServer s = FaceServer.builder().setEmbedder(e).optThreshold(v.threshold()).optMaxConcurrency(concurrency)
                .build().start(0);
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        URI uri = URI.create("http://127.0.0.1:" + s.port() + "/v1/verify");
        String ct = "multipart/form-data; boundary=" + FaceServerTest.BOUNDARY;
        List<byte[]> bodies = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Map<String, byte[]> parts = new LinkedHashMap<>();
            parts.put("a", faces.get(i));
            parts.put("b", faces.get((i + 3) % 8));
            bodies.add(FaceServerTest.multipart(parts));
        }
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            for (int round = 0; round < 2; round++) { // round 0 warms up
                int n = round == 0 ? Math.max(10, perClient / 5) : perClient;
                long[] lat = new long[clients * n];
                List<Future<?>> fs = new ArrayList<>();
                long t0 = System.nanoTime();
                for (int c = 0; c < clients; c++) {
                    int cc = c;
                    fs.add(pool.submit(() -> {
                        Random r = new Random(cc);
                        for (int k = 0; k < n; k++) {
                            HttpRequest req = HttpRequest.newBuilder(uri).header("Content-Type", ct)
                                    .POST(HttpRequest.BodyPublishers.ofByteArray(bodies.get(r.nextInt(8)))).build();
                            long s0 = System.nanoTime();
                            HttpResponse<String> resp = client.send(req, HttpResponse.BodyHandlers.ofString());
                            lat[cc * n + k] = System.nanoTime() - s0;
                            assertEquals(200, resp.statusCode(), resp.body());
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) {
                    f.get(10, TimeUnit.MINUTES);
                }
                double sec = (System.nanoTime() - t0) / 1e9;
                Arrays.sort(lat);
                if (round == 1) {
                    System.out.printf(Locale.ROOT, "bench model=%s provider=%s (%s) intra-op threads=%d"
                                    + " max-concurrency=%d cores=%d%n", model.getFileName(), e.provider(),
                            e.providerReason(), threads, concurrency, Runtime.getRuntime().availableProcessors());
                    System.out.printf(Locale.ROOT, "bench direct SDK verify (decode 2x250x250 JPEG + embed batch 2),"
                            + " 1 thread: %.2f ms/pair (%.1f pairs/s)%n", directMs, 1000 / directMs);
                    System.out.printf(Locale.ROOT, "bench HTTP verify, %d clients x %d requests: %.1f req/s,"
                                    + " p50 %.2f ms, p99 %.2f ms, max %.2f ms%n", clients, n, lat.length / sec,
                            lat[lat.length / 2] / 1e6, lat[(int) Math.ceil(lat.length * 0.99) - 1] / 1e6,
                            lat[lat.length - 1] / 1e6);
                }
            }
        } finally {
            pool.shutdown();
            s.stop();
        }
    }
}
