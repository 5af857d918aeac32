package io.spherekit.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.io.AtomicFiles;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.Provider;
import io.spherekit.runtime.TestModelsAccess;
import io.spherekit.runtime.Verifier;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
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
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fault and load suite (not part of {@code mvn verify}: it runs only with
 * {@code -Dspherekit.reliability.out=FILE.json}, see {@code bench/reliability.sh}). Starts a real {@link FaceServer}
 * on loopback with a small test model (8-d, 1x3x112x96, built by the project's ONNX writer) and drives it with
 * bounded loops, one scenario at a time: baseline, 50 slow-body clients, stalled connections, a burst of 200,
 * oversized bodies, malformed JSON/base64/multipart, a 10k-request soak, and stop under load. Per scenario it
 * records the good clients' success rate and p50/p99 latency, the refused/cut-off count and this JVM's VmRSS before
 * and after. Clients and server share the JVM, so RSS includes the clients. Slow clients send one byte every
 * {@code spherekit.reliability.slowPauseMs} (default 1000 ms, scaled down from the 5 s; the server cuts
 * them off by rate after its 2 s grace period either way).
 */
class ReliabilitySuite {

    static final ObjectMapper JSON = new ObjectMapper();
    static final int GOOD_CLIENTS = 4;
    static final int GOOD_REQUESTS = 300;
    static final int ROUNDS = 20;

    @TempDir
    Path dir;
    FaceServer server;
    URI embed;
    byte[] jpeg;

    static double rssMib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Math.round(Long.parseLong(line.replaceAll("[^0-9]", "")) / 102.4) / 10.0;
            }
        }
        throw new IOException("no VmRSS");
    }

    /** Good clients: {@code clients} threads × {@code n} embed requests; returns success rate and latencies. */
    Map<String, Object> goodClients(int clients, int n) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long[] lat = new long[clients * n];
        AtomicInteger ok = new AtomicInteger();
        Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        List<Future<?>> fs = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int cc = c;
            fs.add(pool.submit(() -> {
                HttpClient hc = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                for (int k = 0; k < n; k++) {
                    long t0 = System.nanoTime();
                    int st;
                    try {
                        st = hc.send(HttpRequest.newBuilder(embed).header("Content-Type", "image/jpeg")
                                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofByteArray(jpeg))
                                .build(), HttpResponse.BodyHandlers.ofString()).statusCode();
                    } catch (IOException e) {
                        st = -1;
                    }
                    lat[cc * n + k] = System.nanoTime() - t0;
                    statuses.computeIfAbsent(st, x -> new AtomicInteger()).incrementAndGet();
                    if (st == 200) {
                        ok.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get(10, TimeUnit.MINUTES);
        }
        pool.shutdown();
        Arrays.sort(lat);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("good_requests", lat.length);
        m.put("good_success_rate", ok.get() / (double) lat.length);
        m.put("good_p50_ms", lat[lat.length / 2] / 1e6);
        m.put("good_p99_ms", lat[(int) Math.ceil(lat.length * 0.99) - 1] / 1e6);
        m.put("good_statuses", new HashMap<>(statuses));
        return m;
    }

    /** Sends the head, then one byte every pause until the server answers; returns the status (or -1). */
    int slowUpload(String head, int contentLength, long pauseMillis, boolean sendBody) {
        try (Socket so = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            so.setSoTimeout(60_000);
            OutputStream out = so.getOutputStream();
            InputStream in = so.getInputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            for (int i = 0; sendBody && i < contentLength && in.available() == 0; i++) {
                Thread.sleep(pauseMillis);
                if (in.available() == 0) {
                    out.write('x');
                    out.flush();
                }
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return text.startsWith("HTTP/1.1 ") ? Integer.parseInt(text.substring(9, 12)) : -1;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    static String uploadHead(int length) {
        return "POST /v1/embed HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: " + length
                + "\r\n\r\n";
    }

    /** {@code attackers} loops of {@code attack} running until the good clients are done; counts its statuses. */
    Map<String, Object> underAttack(int attackers, java.util.function.IntSupplier attack) throws Exception {
        AtomicBoolean done = new AtomicBoolean();
        Map<Integer, AtomicInteger> st = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(attackers);
        List<Future<?>> fs = new ArrayList<>();
        for (int i = 0; i < attackers; i++) {
            fs.add(pool.submit(() -> {
                while (!done.get()) {
                    st.computeIfAbsent(attack.getAsInt(), x -> new AtomicInteger()).incrementAndGet();
                }
            }));
        }
        Thread.sleep(500); // let them attach
        Map<String, Object> m = goodClients(GOOD_CLIENTS, GOOD_REQUESTS);
        done.set(true);
        for (Future<?> f : fs) {
            f.get(2, TimeUnit.MINUTES);
        }
        pool.shutdown();
        m.put("attackers", attackers);
        m.put("attacker_statuses", new HashMap<>(st));
        m.put("refused_or_cut_off", st.entrySet().stream().filter(e -> e.getKey() != 200)
                .mapToInt(e -> e.getValue().get()).sum());
        return m;
    }

    FaceServer start(FaceEmbedder e) throws Exception {
        FaceServer s = FaceServer.builder().setEmbedder(e).optMaxConcurrency(2).optCloseEmbedderOnStop(false)
                .optDrainMillis(20_000).build().start(0);
        server = s;
        embed = URI.create("http://127.0.0.1:" + s.port() + "/v1/embed");
        return s;
    }

    @Test
    @EnabledIfSystemProperty(named = "spherekit.reliability.out", matches = ".+")
    void run() throws Exception {
        long slowPause = Long.getLong("spherekit.reliability.slowPauseMs", 1000);
        Preprocessing pre = Preprocessing.fullImage(112, 96, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB);
        Map<String, String> md = new HashMap<>(pre.toMetadata());
        md.put(Verifier.THRESHOLD_KEY, "0.5");
        Path model = TestModelsAccess.standard(dir.resolve("m.onnx"), 112, 96, 8, md);
        jpeg = FaceServerTest.encode(FaceServerTest.noise(1, 125, 125), "jpg");
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("setup", "in-process FaceServer on loopback, max concurrency 2, queue 32, read timeout 10 s,"
                + " min body rate 1024 B/s after 2 s; good clients: " + GOOD_CLIENTS + " x " + GOOD_REQUESTS
                + " POST /v1/embed of a 125x125 JPEG; slow clients send 1 byte / " + slowPause + " ms");
        Map<String, Map<String, Object>> sc = new LinkedHashMap<>();
        try (FaceEmbedder e = FaceEmbedder.builder().setModelPath(model).optProvider(Provider.CPU)
                .optIntraOpThreads(1).build()) {
            FaceServer s = start(e);
            goodClients(2, 20); // warm-up
            double rss0 = rssMib();
            sc.put("baseline", withRss(rss0, goodClients(GOOD_CLIENTS, GOOD_REQUESTS)));
            rss0 = rssMib();
            sc.put("slow_body_50", withRss(rss0, underAttack(50, () -> slowUpload(uploadHead(5000), 5000, slowPause,
                    true))));
            rss0 = rssMib();
            sc.put("stalled_50", withRss(rss0, underAttack(50, () -> slowUpload(uploadHead(5000), 5000, 0, false))));
            rss0 = rssMib();
            sc.put("burst_200", withRss(rss0, goodClients(200, 1)));
            rss0 = rssMib();
            byte[] big = new byte[11 << 20];
            sc.put("oversized", withRss(rss0, underAttack(4, () -> {
                try {
                    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(embed)
                            .header("Content-Type", "image/jpeg").POST(HttpRequest.BodyPublishers.ofByteArray(big))
                            .build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                } catch (IOException x) {
                    return -1;
                } catch (InterruptedException x) {
                    Thread.currentThread().interrupt();
                    return -1;
                }
            })));
            rss0 = rssMib();
            sc.put("malformed", withRss(rss0, malformed()));
            rss0 = rssMib();
            sc.put("soak_10k", soak());
            s.stop();
            sc.put("stop_under_load", stopUnderLoad(e));
            report.put("scenarios", sc);
        }
        String json = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report) + "\n";
        AtomicFiles.writeString(Path.of(System.getProperty("spherekit.reliability.out")), json);
        System.out.print(json);
        assertTargets(sc);
    }

    /**
     * The stop-under-load scenario alone, {@code spherekit.reliability.stopRuns} times ({@value #ROUNDS} rounds
     * each), its counts per run written to {@code spherekit.reliability.stopOut}; fails if any answer was lost.
     */
    @Test
    @EnabledIfSystemProperty(named = "spherekit.reliability.stopOut", matches = ".+")
    void stopOnly() throws Exception {
        int runs = Integer.getInteger("spherekit.reliability.stopRuns", 10);
        Preprocessing pre = Preprocessing.fullImage(112, 96, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB);
        Map<String, String> md = new HashMap<>(pre.toMetadata());
        md.put(Verifier.THRESHOLD_KEY, "0.5");
        Path model = TestModelsAccess.standard(dir.resolve("m.onnx"), 112, 96, 8, md);
        jpeg = FaceServerTest.encode(FaceServerTest.noise(1, 125, 125), "jpg");
        List<Map<String, Object>> all = new ArrayList<>();
        int lost = 0;
        try (FaceEmbedder e = FaceEmbedder.builder().setModelPath(model).optProvider(Provider.CPU)
                .optIntraOpThreads(1).build()) {
            for (int run = 0; run < runs; run++) {
                Map<String, Object> m = stopUnderLoad(e);
                server.stop();
                lost += (int) m.get("lost_answers");
                all.add(m);
            }
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("what", "stop under load (" + ROUNDS + " rounds of 8 clients sending on kept-alive connections,"
                + " stop after 40 answers) run " + runs + " times in one JVM");
        report.put("runs", all);
        report.put("lost_answers_total", lost);
        AtomicFiles.writeString(Path.of(System.getProperty("spherekit.reliability.stopOut")),
                JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report) + "\n");
        if (lost != 0) {
            throw new AssertionError(lost + " answers lost at stop over " + runs + " runs");
        }
    }

    /**
     * The targets, checked after the report is written (so a miss still leaves its figures): with 50 slow
     * clients attached the good clients keep at least 95 % success and a p99 of at most 3x the unloaded one; VmRSS
     * after 10k requests within 10 % of after 1k; no answer lost at stop. A miss fails the run (nonzero exit of
     * bench/reliability.sh and of .ci/run).
     */
    static void assertTargets(Map<String, Map<String, Object>> sc) {
        List<String> missed = new ArrayList<>();
        double baseP99 = (double) sc.get("baseline").get("good_p99_ms");
        Map<String, Object> slow = sc.get("slow_body_50");
        double slowOk = (double) slow.get("good_success_rate");
        double slowP99 = (double) slow.get("good_p99_ms");
        if (slowOk < 0.95) {
            missed.add("50 slow clients: good-client success " + slowOk + " < 0.95");
        }
        if (slowP99 > 3 * baseP99) {
            missed.add("50 slow clients: good-client p99 " + slowP99 + " ms > 3 x unloaded p99 " + baseP99 + " ms");
        }
        double rss = (double) sc.get("soak_10k").get("rss_10k_over_1k");
        if (rss > 1.10) {
            missed.add("soak: RSS after 10k / after 1k = " + rss + " > 1.10");
        }
        int lost = (int) sc.get("stop_under_load").get("lost_answers");
        if (lost != 0) {
            missed.add("stop under load: " + lost + " answers lost");
        }
        if (!missed.isEmpty()) {
            throw new AssertionError("reliability targets missed: " + String.join("; ", missed));
        }
    }

    static Map<String, Object> withRss(double before, Map<String, Object> m) throws IOException {
        m.put("rss_before_mib", before);
        m.put("rss_after_mib", rssMib());
        return m;
    }

    /** A corpus of malformed bodies: every answer must be a 4xx JSON error with a code; counts anything else. */
    Map<String, Object> malformed() throws Exception {
        String b64 = Base64.getEncoder().encodeToString(jpeg);
        String boundary = "sk-b";
        List<String[]> corpus = List.of(
                new String[] {"application/json", "{\"image\": "},
                new String[] {"application/json", "[1,2]"},
                new String[] {"application/json", "{\"image\": \"" + b64 + "\"} trailing"},
                new String[] {"application/json", "{\"image\": \"" + b64 + "\"}{\"x\":1}"},
                new String[] {"application/json", "{\"image\": \"" + b64.substring(0, 20) + "!" + b64.substring(20) + "\"}"},
                new String[] {"application/json", "{\"image\": \"" + b64.substring(0, b64.length() - 3) + "\"}"},
                new String[] {"application/json", "{\"image\": 42}"},
                new String[] {"application/json", "{\"image\": \"data:image/jpeg;base64\"}"},
                new String[] {"multipart/form-data; boundary=" + boundary, "no boundary here"},
                new String[] {"text/plain", "hello"},
                new String[] {"image/jpeg", "not a jpeg at all"});
        HttpClient hc = HttpClient.newHttpClient();
        Map<String, Integer> codes = new LinkedHashMap<>();
        int notJson = 0;
        int server5xx = 0;
        int total = 0;
        for (int round = 0; round < 10; round++) {
            for (String[] c : corpus) {
                HttpResponse<String> r = hc.send(HttpRequest.newBuilder(embed).header("Content-Type", c[0])
                        .POST(HttpRequest.BodyPublishers.ofString(c[1])).build(), HttpResponse.BodyHandlers.ofString());
                total++;
                try {
                    JsonNode j = JSON.readTree(r.body());
                    codes.merge(r.statusCode() + " " + j.path("code").asText("<none>"), 1, Integer::sum);
                } catch (IOException e) {
                    notJson++;
                }
                if (r.statusCode() >= 500) {
                    server5xx++;
                }
            }
        }
        Map<String, Object> m = goodClients(GOOD_CLIENTS, 25); // still serving afterwards
        m.put("malformed_requests", total);
        m.put("malformed_answers", codes);
        m.put("malformed_not_json", notJson);
        m.put("malformed_5xx", server5xx);
        return m;
    }

    /**
     * 10 000 requests by 4 clients; VmRSS after the first 1 000 and after all, each taken after a full collection
     * ({@link #settledRssMib}), so the ratio shows retained memory (a leak, Java or native) and not how far G1 has
     * grown the heap towards -Xmx between two samples. The raw VmRSS is reported beside it.
     */
    Map<String, Object> soak() throws Exception {
        double before = rssMib();
        Map<String, Object> first = goodClients(GOOD_CLIENTS, 250);
        double raw1k = rssMib();
        double after1k = settledRssMib();
        Map<String, Object> rest = goodClients(GOOD_CLIENTS, 2250);
        double raw10k = rssMib();
        double after10k = settledRssMib();
        Map<String, Object> m = new LinkedHashMap<>(rest);
        m.put("requests", 10_000);
        m.put("first_1k_success_rate", first.get("good_success_rate"));
        m.put("rss_before_mib", before);
        m.put("rss_after_1k_mib", after1k);
        m.put("rss_after_10k_mib", after10k);
        m.put("rss_10k_over_1k", after10k / after1k);
        m.put("rss_sampled_after", "full GCs until VmRSS changes < 2 % (settledRssMib)");
        m.put("raw_rss_after_1k_mib", raw1k);
        m.put("raw_rss_after_10k_mib", raw10k);
        return m;
    }

    /**
     * VmRSS once full collections stop shrinking it: G1 returns free heap regions to the OS after a full GC
     * (MaxHeapFreeRatio) but not all at once, so collect until two successive samples differ by under 2 % (at most 8
     * rounds, 200 ms apart).
     */
    static double settledRssMib() throws IOException, InterruptedException {
        double last = Double.MAX_VALUE;
        for (int i = 0; i < 8; i++) {
            System.gc();
            Thread.sleep(200);
            double now = rssMib();
            if (Math.abs(now - last) < 0.02 * now) {
                return now;
            }
            last = now;
        }
        return last;
    }

    /**
     * {@value #ROUNDS} rounds: 8 clients keep sending on kept-alive connections, the server stops after 40 answers. Lost
     * answers = requests the server dispatched minus answers the clients received.
     */
    Map<String, Object> stopUnderLoad(FaceEmbedder e) throws Exception {
        int lost = 0;
        int answered = 0;
        int dispatched = 0;
        int refusedOrClosed = 0;
        for (int round = 0; round < ROUNDS; round++) {
            FaceServer s = start(e);
            AtomicInteger got = new AtomicInteger();
            AtomicInteger ok = new AtomicInteger();
            AtomicInteger io = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(8);
            CountDownLatch go = new CountDownLatch(1);
            URI u = embed;
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                fs.add(pool.submit(() -> {
                    HttpClient hc = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                    go.await();
                    for (int k = 0; k < 5000; k++) {
                        try {
                            int st = hc.send(HttpRequest.newBuilder(u).header("Content-Type", "image/jpeg")
                                    .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofByteArray(jpeg))
                                    .build(), HttpResponse.BodyHandlers.ofString()).statusCode();
                            got.incrementAndGet();
                            if (st == 200) {
                                ok.incrementAndGet();
                            }
                        } catch (IOException x) {
                            io.incrementAndGet();
                            return null;
                        }
                    }
                    return null;
                }));
            }
            go.countDown();
            while (ok.get() < 40) {
                Thread.sleep(2);
            }
            s.stop();
            for (Future<?> f : fs) {
                f.get(2, TimeUnit.MINUTES);
            }
            pool.shutdown();
            answered += got.get();
            dispatched += s.requestsDispatched();
            lost += Math.max(0, s.requestsDispatched() - got.get()); // Jetty's own 503s at its stop are not dispatched
            refusedOrClosed += io.get();
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rounds", ROUNDS);
        m.put("requests_dispatched", dispatched);
        m.put("answers_received", answered);
        m.put("lost_answers", lost);
        m.put("clients_refused_or_closed_before_dispatch", refusedOrClosed);
        return m;
    }
}
