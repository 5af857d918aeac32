package io.spherekit.bench;

import io.spherekit.core.Images;
import io.spherekit.core.cli.LfwLocation;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.Provider;
import io.spherekit.runtime.Verifier;
import io.spherekit.server.FaceServer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * HTTP {@code POST /v1/verify} throughput and latency of {@link FaceServer} (the {@code serve} command's server) on
 * loopback, the source of the "HTTP verify" numbers in README.md and BENCHMARKS.md.
 *
 * <pre>ServerThroughput --model runs/demo/model.onnx [--lfw DIR] [--clients 8] [--requests 100] [--threads 1]
 *                  [--concurrency N] [--json FILE]</pre>
 * <ul>
 *   <li>Images: the first 16 JPEGs (sorted) of {@code lfw-deepfunneled/} (250×250, the size users send), from
 *       {@code --lfw}, else {@link LfwLocation} ({@code $SPHEREKIT_LFW}, else {@code ../shared/data/lfw} next to
 *       the repository root in {@code -Dspherekit.home}). Each request uploads two of them as multipart parts
 *       {@code a} and {@code b}.</li>
 *   <li>Reference: 100 direct SDK {@code Verifier.verify} calls on one thread (decode two JPEGs + embed), ms/pair.</li>
 *   <li>HTTP: {@code --clients} client threads each send {@code --requests} requests one after another (after a
 *       warm-up round of max(10, requests/5) each); req/s = all requests / wall time; p50/p99/max per request.
 *       Any non-200 answer fails the run (exit 1).</li>
 *   <li>Server: {@code --concurrency} (default: available processors) concurrent embeddings, ORT intra-op threads
 *       {@code --threads} (default 1), provider AUTO.</li>
 * </ul>
 * Writes the JSON report to {@code --json} (atomically) and stdout; latencies in ms.
 */
public final class ServerThroughput {
    private static final String BOUNDARY = "spherekit-bench-4c1d9e0b";

    private ServerThroughput() {
    }

    public static void main(String[] args) throws Exception {
        Path model = null;
        Path lfw = null;
        Path json = null;
        int clients = 8;
        int perClient = 100;
        int threads = 1;
        int concurrency = Runtime.getRuntime().availableProcessors();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> model = Path.of(args[++i]);
                case "--lfw" -> lfw = Path.of(args[++i]);
                case "--clients" -> clients = Integer.parseInt(args[++i]);
                case "--requests" -> perClient = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--concurrency" -> concurrency = Integer.parseInt(args[++i]);
                case "--json" -> json = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (model == null || !Files.isRegularFile(model)) {
            throw new IllegalArgumentException("--model FILE.onnx is required and must exist (got " + model
                    + "); the published numbers use the demo model runs/demo/model.onnx");
        }
        List<byte[]> faces = faces(LfwLocation.resolve(lfw).resolve("lfw-deepfunneled"), 16);

        Map<String, Object> r = new LinkedHashMap<>();
        try (FaceEmbedder e = FaceEmbedder.builder().setModelPath(model).optProvider(Provider.AUTO)
                .optIntraOpThreads(threads).build()) {
            Verifier v = e.metadata().containsKey(Verifier.THRESHOLD_KEY) ? Verifier.fromModelMetadata(e)
                    : Verifier.withThreshold(e, 0.3);
            int n = faces.size();
            for (int i = 0; i < 20; i++) {
                v.verify(Images.read(faces.get(i % n), "a", 1 << 24), Images.read(faces.get((i + 3) % n), "b", 1 << 24));
            }
            int direct = 100;
            long t = System.nanoTime();
            for (int i = 0; i < direct; i++) {
                v.verify(Images.read(faces.get(i % n), "a", 1 << 24), Images.read(faces.get((i + 3) % n), "b", 1 << 24));
            }
            double directMs = (System.nanoTime() - t) / 1e6 / direct;

            List<byte[]> bodies = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                bodies.add(multipart(faces.get(i), faces.get((i + 3) % n)));
            }
            FaceServer s = FaceServer.builder().setEmbedder(e).optThreshold(v.threshold())
                    .optMaxConcurrency(concurrency).optCloseEmbedderOnStop(false).build().start(0);
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            URI uri = URI.create("http://127.0.0.1:" + s.port() + "/v1/verify");
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            try {
                round(pool, client, uri, bodies, clients, Math.max(10, perClient / 5)); // warm-up
                long t0 = System.nanoTime();
                long[] lat = round(pool, client, uri, bodies, clients, perClient);
                double sec = (System.nanoTime() - t0) / 1e9;
                Arrays.sort(lat);
                r.put("benchmark", "http-verify");
                r.put("model", model.toString());
                r.put("provider", e.provider().name());
                r.put("provider_reason", e.providerReason());
                r.put("intra_op_threads", threads);
                r.put("max_concurrency", concurrency);
                r.put("cores", Runtime.getRuntime().availableProcessors());
                r.put("images", n + " LFW deep-funneled JPEGs, 250x250");
                r.put("clients", clients);
                r.put("requests_per_client", perClient);
                r.put("requests", lat.length);
                r.put("seconds", sec);
                r.put("requests_per_second", lat.length / sec);
                r.put("p50_ms", lat[lat.length / 2] / 1e6);
                r.put("p99_ms", lat[(int) Math.ceil(lat.length * 0.99) - 1] / 1e6);
                r.put("max_ms", lat[lat.length - 1] / 1e6);
                r.put("direct_sdk_verify_ms_per_pair", directMs);
            } finally {
                pool.shutdown();
                s.stop();
            }
        }
        r.put("peak_rss_bytes", BenchSupport.peakRssBytes());
        System.err.printf(Locale.ROOT, "[http-verify] %d clients x %d requests: %.1f req/s, p50 %.2f ms, p99 %.2f ms"
                        + " (direct SDK %.2f ms/pair)%n", clients, perClient, r.get("requests_per_second"),
                r.get("p50_ms"), r.get("p99_ms"), r.get("direct_sdk_verify_ms_per_pair"));
        String s = json != null ? BenchSupport.writeJson(json, r) : null;
        System.out.println(s != null ? s : r);
    }

    /** Each client sends {@code n} requests one after another; returns every request's latency in ns. */
    private static long[] round(ExecutorService pool, HttpClient client, URI uri, List<byte[]> bodies, int clients,
                                int n) throws Exception {
        long[] lat = new long[clients * n];
        String ct = "multipart/form-data; boundary=" + BOUNDARY;
        List<Future<?>> fs = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int cc = c;
            fs.add(pool.submit(() -> {
                Random rnd = new Random(cc);
                for (int k = 0; k < n; k++) {
                    HttpRequest req = HttpRequest.newBuilder(uri).header("Content-Type", ct)
                            .POST(HttpRequest.BodyPublishers.ofByteArray(bodies.get(rnd.nextInt(bodies.size())))).build();
                    long s0 = System.nanoTime();
                    HttpResponse<String> resp = client.send(req, HttpResponse.BodyHandlers.ofString());
                    lat[cc * n + k] = System.nanoTime() - s0;
                    if (resp.statusCode() != 200) {
                        throw new IllegalStateException("HTTP " + resp.statusCode() + " from " + uri + ": " + resp.body());
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get(30, TimeUnit.MINUTES);
        }
        return lat;
    }

    private static List<byte[]> faces(Path dir, int count) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("LFW images not found: " + dir + " is not a folder (pass --lfw DIR or set "
                    + LfwLocation.ENV + ")");
        }
        List<Path> files;
        try (Stream<Path> s = Files.walk(dir)) {
            files = s.filter(p -> p.toString().toLowerCase(Locale.ROOT).endsWith(".jpg")).sorted().limit(count)
                    .collect(Collectors.toList());
        }
        if (files.size() < 4) {
            throw new IllegalArgumentException("need at least 4 .jpg files under " + dir + ", found " + files.size());
        }
        List<byte[]> out = new ArrayList<>();
        for (Path p : files) {
            out.add(Files.readAllBytes(p));
        }
        return out;
    }

    private static byte[] multipart(byte[] a, byte[] b) {
        Map<String, byte[]> parts = new LinkedHashMap<>();
        parts.put("a", a);
        parts.put("b", b);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Map.Entry<String, byte[]> p : parts.entrySet()) {
            out.writeBytes(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"" + p.getKey()
                    + "\"; filename=\"" + p.getKey() + ".jpg\"\r\nContent-Type: image/jpeg\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(p.getValue());
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.writeBytes(("--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }
}
