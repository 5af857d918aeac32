package io.spherekit.server;

import io.spherekit.core.ident.Identifier;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.Gallery;
import io.spherekit.core.Images;
import io.spherekit.runtime.ModelId;
import io.spherekit.core.Preprocessing;
import io.spherekit.runtime.Provider;
import io.spherekit.runtime.TestModelsAccess;
import io.spherekit.runtime.Verifier;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real {@link FaceServer} on loopback (port 0), driven with {@link HttpClient}. */
class FaceServerTest {

    static final int H = 112;
    static final int W = 96;
    static final int D = 8;
    static final ObjectMapper JSON = new ObjectMapper();
    static final Color[] PEOPLE = {Color.RED, Color.BLUE, new Color(20, 200, 60), new Color(240, 200, 10)};
    static final String[] NAMES = {"red", "blue", "green", "yellow"};

    @TempDir
    static Path dir;
    static Path model;
    static FaceEmbedder embedder;
    static Verifier verifier;
    static FaceServer server;
    static HttpClient client;
    static List<byte[]> faces = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        Preprocessing pre = Preprocessing.fullImage(H, W, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB);
        Map<String, String> md = new HashMap<>(pre.toMetadata());
        md.put(Verifier.THRESHOLD_KEY, "0.5");
        model = TestModelsAccess.standard(dir.resolve("m.onnx"), H, W, D, md);
        embedder = open();
        verifier = Verifier.fromModelMetadata(embedder);
        Gallery.Builder g = Gallery.builder(D).optModelId(ModelId.of(embedder));
        for (int i = 0; i < PEOPLE.length; i++) {
            g.add(NAMES[i], embedder.embed(textured(30, 40, PEOPLE[i])));
        }
        for (int i = 0; i < 6; i++) {
            faces.add(i % 2 == 0 ? encode(noise(i, 125, 125), "jpg") : encode(noise(i, 60, 70), "png"));
        }
        server = FaceServer.builder().setEmbedder(embedder).optGallery(g.build()).optMaxConcurrency(4)
                .optCloseEmbedderOnStop(false).build().start(0);
        client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void tearDown() {
        if (server != null) {
            server.stop();
        }
        embedder.close();
    }

    static FaceEmbedder open() throws Exception {
        return FaceEmbedder.builder().setModelPath(model).optProvider(Provider.CPU).optIntraOpThreads(1).build();
    }

    // ---------------------------------------------------------------- helpers

    static BufferedImage solid(int w, int h, Color c) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D gr = img.createGraphics();
        gr.setColor(c);
        gr.fillRect(0, 0, w, h);
        gr.dispose();
        return img;
    }

    /** A face-less but textured stand-in for colour {@code c} (blank images are refused as "no face"). */
    static BufferedImage textured(int w, int h, Color c) {
        return TestModelsAccess.textured(w, h, c);
    }

    static final Preprocessing PRE = Preprocessing.fullImage(H, W, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB);

    /** The cosine of the hand-computed embeddings of two images ({@link TestModelsAccess#expectedOf}). */
    static double expectedCosine(BufferedImage a, BufferedImage b) {
        double[] x = TestModelsAccess.expectedOf(PRE, a, D);
        double[] y = TestModelsAccess.expectedOf(PRE, b, D);
        double dot = 0;
        double nx = 0;
        double ny = 0;
        for (int i = 0; i < D; i++) {
            dot += x[i] * y[i];
            nx += x[i] * x[i];
            ny += y[i] * y[i];
        }
        return dot / Math.sqrt(nx * ny);
    }

    static BufferedImage noise(long seed, int w, int h) {
        Random r = new Random(seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int base = r.nextInt(0x1000000);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, (base + r.nextInt(0x404040)) & 0xFFFFFF);
            }
        }
        return img;
    }

    static byte[] encode(BufferedImage img, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(img, format, out), format);
        return out.toByteArray();
    }

    record Reply(int status, String contentType, JsonNode json) {
    }

    static URI uri(FaceServer s, String path) {
        return URI.create("http://127.0.0.1:" + s.port() + path);
    }

    static Reply send(HttpClient c, HttpRequest req) throws IOException, InterruptedException {
        HttpResponse<String> r = c.send(req, HttpResponse.BodyHandlers.ofString());
        String ct = r.headers().firstValue("Content-Type").orElse("");
        JsonNode j;
        try {
            j = JSON.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON (" + r.statusCode() + ", " + ct + "): " + r.body(), e);
        }
        return new Reply(r.statusCode(), ct, j);
    }

    static Reply get(FaceServer s, String path) throws IOException, InterruptedException {
        return send(client, HttpRequest.newBuilder(uri(s, path)).GET().build());
    }

    static Reply post(FaceServer s, String path, String contentType, byte[] body)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(s, path)).timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return send(client, b.build());
    }

    static final String BOUNDARY = "sk-boundary-7MA4YWxkTrZu0gW";

    static byte[] multipart(Map<String, byte[]> parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Map.Entry<String, byte[]> p : parts.entrySet()) {
            out.writeBytes(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"" + p.getKey()
                    + "\"; filename=\"" + p.getKey() + ".img\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(p.getValue());
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.writeBytes(("--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    static Reply postParts(FaceServer s, String path, Map<String, byte[]> parts)
            throws IOException, InterruptedException {
        return post(s, path, "multipart/form-data; boundary=" + BOUNDARY, multipart(parts));
    }

    static Reply verify(FaceServer s, byte[] a, byte[] b) throws IOException, InterruptedException {
        Map<String, byte[]> parts = new LinkedHashMap<>();
        parts.put("a", a);
        parts.put("b", b);
        return postParts(s, "/v1/verify", parts);
    }

    static String json(Map<String, Object> fields) throws IOException {
        return JSON.writeValueAsString(fields);
    }

    static float[] unitX(int d) {
        float[] v = new float[d];
        v[0] = 1;
        return v;
    }

    static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    static double sdkScore(byte[] a, byte[] b) throws Exception {
        return verifier.verify(Images.read(a, "a", FaceServer.DEFAULT_MAX_PIXELS),
                Images.read(b, "b", FaceServer.DEFAULT_MAX_PIXELS)).score();
    }

    static void assertError(Reply r, int status, String code, String messagePart) {
        assertEquals(status, r.status(), r.json().toString());
        assertTrue(r.contentType().startsWith("application/json"), r.contentType());
        assertEquals(status, r.json().path("status").asInt(), r.json().toString());
        assertEquals(code, r.json().path("code").asText(), r.json().toString());
        assertEquals(code, r.json().path("error").asText(), r.json().toString());
        assertTrue(r.json().path("message").asText().contains(messagePart), r.json().toString());
    }

    static void assertHealthy(FaceServer s) throws IOException, InterruptedException {
        Reply h = get(s, "/healthz");
        assertEquals(200, h.status());
        assertEquals("ok", h.json().path("status").asText());
    }

    /** A reply read off a raw socket: status line code, headers and body as text. */
    record RawReply(int status, String head, String body) {
        String text() {
            return head + "\r\n\r\n" + body;
        }
    }

    /**
     * Sends {@code head} on a new socket, then {@code trickle} single body bytes {@code pauseMillis} apart (a slow
     * client), then reads the reply until the server closes the connection or {@code Connection: close}.
     */
    static RawReply raw(FaceServer s, byte[] head, int trickle, long pauseMillis) throws IOException {
        try (Socket so = new Socket(InetAddress.getLoopbackAddress(), s.port())) {
            so.setSoTimeout(30_000);
            OutputStream out = so.getOutputStream();
            out.write(head);
            out.flush();
            try {
                for (int i = 0; i < trickle; i++) {
                    sleep(pauseMillis);
                    out.write('x');
                    out.flush();
                }
            } catch (IOException e) {
                // the server cut the connection off; its answer is still readable
            }
            byte[] all = so.getInputStream().readAllBytes();
            String text = new String(all, StandardCharsets.UTF_8);
            int sep = text.indexOf("\r\n\r\n");
            if (!text.startsWith("HTTP/1.1 ") || sep < 0) {
                throw new AssertionError("not an HTTP reply: " + text);
            }
            return new RawReply(Integer.parseInt(text.substring(9, 12)), text.substring(0, sep),
                    text.substring(sep + 4));
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static byte[] uploadHead(String path, int contentLength) {
        return ("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: "
                + contentLength + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    // ---------------------------------------------------------------- tests

    @Test
    void healthAndModelMetadata() throws Exception {
        assertHealthy(server);
        Reply m = get(server, "/v1/model");
        assertEquals(200, m.status());
        JsonNode j = m.json();
        assertEquals(ModelId.of(embedder), j.path("model_id").asText());
        assertTrue(j.path("model_id").asText().startsWith("m.onnx@sha256:"), j.toString());
        assertEquals("m.onnx", j.path("model_file").asText());
        assertEquals(D, j.path("embedding_dim").asInt());
        assertEquals(H, j.at("/input/height").asInt());
        assertEquals(W, j.at("/input/width").asInt());
        assertEquals("RGB", j.at("/input/channel_order").asText());
        assertEquals("CPU", j.path("provider").asText());
        assertEquals("CPU requested", j.path("provider_reason").asText());
        assertEquals(0.5, j.path("threshold").asDouble());
        assertEquals("0.5", j.at("/metadata/spherekit.threshold").asText());
        assertEquals(4, j.at("/gallery/identities").asInt());
        assertEquals(FaceServer.DEFAULT_MAX_BODY_BYTES, j.at("/limits/max_body_bytes").asLong());
        assertEquals(4, j.at("/limits/max_concurrency").asInt());
    }

    @Test
    void verifyMultipartAndJsonGiveTheSdkScore() throws Exception {
        byte[] a = faces.get(0);
        byte[] b = faces.get(1);
        double expected = sdkScore(a, b);
        Reply r = verify(server, a, b);
        assertEquals(200, r.status(), r.json().toString());
        assertEquals(expected, r.json().path("score").asDouble(), 0.0);
        assertEquals(expected >= 0.5, r.json().path("same").asBoolean());
        assertEquals(0.5, r.json().path("threshold").asDouble());
        assertEquals(server.modelId(), r.json().path("model_id").asText());

        Reply j = post(server, "/v1/verify", "application/json",
                json(Map.of("a", b64(a), "b", "data:image/png;base64," + b64(b))).getBytes(StandardCharsets.UTF_8));
        assertEquals(200, j.status(), j.json().toString());
        assertEquals(expected, j.json().path("score").asDouble(), 0.0);
        // base64 wrapped in lines (MIME, 76 columns, CRLF) is still accepted
        String wrapped = Base64.getMimeEncoder().encodeToString(a);
        assertTrue(wrapped.contains("\r\n"), "the image is long enough to wrap");
        Reply w = post(server, "/v1/verify", "application/json",
                json(Map.of("a", wrapped, "b", b64(b))).getBytes(StandardCharsets.UTF_8));
        assertEquals(200, w.status(), w.json().toString());
        assertEquals(expected, w.json().path("score").asDouble(), 0.0);

        byte[] red = encode(textured(20, 20, Color.RED), "png");
        byte[] red2 = encode(textured(50, 30, Color.RED), "png");
        Reply same = verify(server, red, red2);
        assertEquals(expectedCosine(textured(20, 20, Color.RED), textured(50, 30, Color.RED)),
                same.json().path("score").asDouble(), 1e-5);
        assertTrue(same.json().path("score").asDouble() > 0.999, same.json().toString());
        assertTrue(same.json().path("same").asBoolean());
        // two blank images never match: 422 no_face, naming the part
        byte[] grey = encode(solid(20, 20, Color.GRAY), "png");
        byte[] grey2 = encode(solid(50, 30, Color.GRAY), "png");
        assertError(verify(server, grey, grey2), 422, "no_face", "no face found in image 'a': uniform image");
        assertError(verify(server, red, grey2), 422, "no_face", "no face found in image 'b': uniform image");
        assertError(post(server, "/v1/embed", "image/png", grey), 422, "no_face",
                "no face found in image 'image': uniform image");
    }

    @Test
    void embedInEachFormMatchesTheSdk() throws Exception {
        byte[] img = faces.get(2);
        float[] expected = embedder.embed(Images.read(img, "x", FaceServer.DEFAULT_MAX_PIXELS));
        List<Reply> replies = List.of(
                postParts(server, "/v1/embed", Map.of("image", img)),
                post(server, "/v1/embed", "image/jpeg", img),
                post(server, "/v1/embed", "application/json",
                        json(Map.of("image", b64(img))).getBytes(StandardCharsets.UTF_8)));
        for (Reply r : replies) {
            assertEquals(200, r.status(), r.json().toString());
            assertEquals(D, r.json().path("dim").asInt());
            assertFalse(r.json().path("normalized").asBoolean());
            float[] got = new float[D];
            for (int i = 0; i < D; i++) {
                got[i] = r.json().path("embedding").get(i).floatValue();
            }
            assertArrayEquals(expected, got, 0f);
        }
    }

    @Test
    void searchReturnsTopKByCosine() throws Exception {
        byte[] red = encode(textured(33, 21, Color.RED), "png");
        Reply r = postParts(server, "/v1/search", Map.of("image", red));
        assertEquals(200, r.status(), r.json().toString());
        JsonNode m = r.json().path("matches");
        assertEquals(4, m.size()); // default k = 5, gallery has 4
        assertEquals("red", m.get(0).path("label").asText());
        assertEquals(expectedCosine(textured(33, 21, Color.RED), textured(30, 40, Color.RED)),
                m.get(0).path("score").asDouble(), 1e-5);
        assertTrue(m.get(0).path("same").asBoolean());
        for (int i = 1; i < m.size(); i++) {
            assertTrue(m.get(i - 1).path("score").asDouble() >= m.get(i).path("score").asDouble(), m.toString());
        }
        // same order as the SDK gallery
        float[] q = embedder.embed(textured(33, 21, Color.RED));
        Gallery.Builder gb = Gallery.builder(D);
        for (int i = 0; i < PEOPLE.length; i++) {
            gb.add(NAMES[i], embedder.embed(textured(30, 40, PEOPLE[i])));
        }
        List<Identifier.Match> sdk = gb.build().search(q, 2);
        Reply k2 = postParts(server, "/v1/search?k=2", Map.of("image", red));
        assertEquals(2, k2.json().path("matches").size());
        for (int i = 0; i < 2; i++) {
            assertEquals(sdk.get(i).label(), k2.json().path("matches").get(i).path("label").asText());
            assertEquals(sdk.get(i).score(), k2.json().path("matches").get(i).path("score").asDouble(), 1e-6);
        }
        Reply kJson = post(server, "/v1/search", "application/json",
                json(Map.of("image", b64(red), "k", 1)).getBytes(StandardCharsets.UTF_8));
        assertEquals(1, kJson.json().path("matches").size());
        Map<String, byte[]> withK = new LinkedHashMap<>();
        withK.put("image", red);
        withK.put("k", "3".getBytes(StandardCharsets.US_ASCII));
        assertEquals(3, postParts(server, "/v1/search", withK).json().path("matches").size());
        assertError(postParts(server, "/v1/search?k=0", Map.of("image", red)), 400, "bad_request", "k must be");
        assertError(postParts(server, "/v1/search?k=abc", Map.of("image", red)), 400, "bad_request", "'abc'");
    }

    @Test
    void searchServesAnHnswIndexWithTheSameAnswersAsTheExactGallery() throws Exception {
        Gallery.Builder gb = Gallery.builder(D).optModelId(ModelId.of(embedder));
        Path idx = dir.resolve("people-hnsw");
        try (io.spherekit.index.HnswGallery h = io.spherekit.index.HnswGallery.create(idx, D, ModelId.of(embedder),
                io.spherekit.runtime.Galleries.preprocessingOf(embedder),
                io.spherekit.index.HnswGallery.Options.defaults())) {
            for (int i = 0; i < PEOPLE.length; i++) {
                float[] e = embedder.embed(textured(30, 40, PEOPLE[i]));
                gb.add(NAMES[i], e);
                h.add(NAMES[i], e);
            }
        }
        Gallery exact = gb.build();
        try (io.spherekit.index.HnswGallery h = io.spherekit.index.HnswGallery.open(idx, false)) {
            FaceServer s = FaceServer.builder().setEmbedder(embedder).optGallery(h).optCloseEmbedderOnStop(false)
                    .build().start(0);
            try {
                for (Color c : new Color[] {Color.RED, new Color(20, 200, 60), Color.MAGENTA}) {
                    byte[] img = encode(textured(33, 21, c), "png");
                    Reply r = postParts(s, "/v1/search?k=3", Map.of("image", img));
                    assertEquals(200, r.status(), r.json().toString());
                    List<Identifier.Match> want = exact.search(embedder.embed(textured(33, 21, c)), 3);
                    JsonNode m = r.json().path("matches");
                    assertEquals(3, m.size());
                    for (int i = 0; i < 3; i++) {
                        assertEquals(want.get(i).label(), m.get(i).path("label").asText());
                        assertEquals(want.get(i).score(), m.get(i).path("score").asDouble(), 1e-6);
                    }
                    JsonNode d = r.json().path("decision");
                    boolean known = want.get(0).score() >= 0.5; // the model's threshold
                    assertEquals(known, d.path("known").asBoolean(), r.json().toString());
                    assertEquals(known ? want.get(0).label() : null, d.path("label").isNull() ? null
                            : d.path("label").asText());
                    assertEquals(want.get(0).score(), d.path("best_score").asDouble(), 1e-6);
                }
                JsonNode g = get(s, "/v1/model").json().path("gallery");
                assertEquals("hnsw", g.path("kind").asText());
                assertEquals(4, g.path("identities").asInt());
                assertEquals(4, g.path("embeddings").asInt());
            } finally {
                s.stop();
            }
        }
        // an index recorded with other preprocessing is refused, as one built with another model
        Path other = dir.resolve("other-pre");
        io.spherekit.index.HnswGallery.create(other, D, ModelId.of(embedder), "crop 10x10; align=crop",
                io.spherekit.index.HnswGallery.Options.defaults()).close();
        try (io.spherekit.index.HnswGallery h = io.spherekit.index.HnswGallery.open(other, false)) {
            Exception e = assertThrows(Exception.class, () -> FaceServer.builder().setEmbedder(embedder)
                    .optGallery(h).build());
            assertTrue(e.getMessage().contains("was built with preprocessing 'crop 10x10; align=crop'"),
                    e.getMessage());
            FaceServer ok = FaceServer.builder().setEmbedder(embedder).optGallery(h).optAllowModelMismatch(true)
                    .optCloseEmbedderOnStop(false).build();
            assertEquals(ModelId.of(embedder), ok.modelId()); // allowed explicitly: built, with a warning
        }
        assertEquals("exact", get(server, "/v1/model").json().path("gallery").path("kind").asText());
    }

    @Test
    void badInputsGetCleanJsonErrorsAndTheServerKeepsServing() throws Exception {
        byte[] good = faces.get(0);
        byte[] truncated = Arrays.copyOf(faces.get(2), faces.get(2).length * 2 / 3);
        byte[] text = "definitely not an image, just some text".getBytes(StandardCharsets.UTF_8);

        assertError(post(server, "/v1/verify", "multipart/form-data; boundary=" + BOUNDARY, new byte[0]), 400,
                "bad_request", "request body is empty");
        assertHealthy(server);
        assertError(post(server, "/v1/embed", null, new byte[0]), 400, "bad_request", "request body is empty");
        assertError(verify(server, good, text), 422, "invalid_image", "cannot read image 'b': not an image");
        assertHealthy(server);
        Reply t = verify(server, truncated, good);
        assertError(t, 422, "invalid_image", "cannot read image 'a'");
        assertTrue(t.json().path("message").asText().contains("truncated"), t.json().toString());
        assertHealthy(server);
        assertError(postParts(server, "/v1/verify", Map.of("a", good)), 400, "bad_request",
                "missing image part 'b'");
        assertError(postParts(server, "/v1/verify", Map.of("a", good, "b", new byte[0])), 400, "bad_request",
                "image 'b' is empty");
        assertHealthy(server);
        byte[] big = new byte[(int) FaceServer.DEFAULT_MAX_BODY_BYTES + 1000];
        System.arraycopy(good, 0, big, 0, good.length);
        assertError(post(server, "/v1/embed", "image/jpeg", big), 413, "payload_too_large", "limit is 10485760");
        assertHealthy(server);
        // chunked upload (no Content-Length) above the limit
        HttpRequest chunked = HttpRequest.newBuilder(uri(server, "/v1/embed")).header("Content-Type", "image/jpeg")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big))).build();
        assertError(send(client, chunked), 413, "payload_too_large", "limit");
        assertHealthy(server);
        assertError(post(server, "/v1/verify", "text/plain", text), 415, "unsupported_media_type", "text/plain");
        assertError(post(server, "/v1/verify", "image/jpeg", good), 415, "unsupported_media_type", "two images");
        assertError(post(server, "/v1/verify", "application/json", "{\"a\": ".getBytes(StandardCharsets.UTF_8)),
                400, "bad_request", "not valid JSON");
        assertError(post(server, "/v1/verify", "application/json", "[1]".getBytes(StandardCharsets.UTF_8)),
                400, "bad_request", "must be a JSON object");
        assertError(post(server, "/v1/verify", "application/json",
                json(Map.of("a", "!!notbase64!!", "b", b64(good))).getBytes(StandardCharsets.UTF_8)), 400,
                "bad_request", "field 'a' is not valid base64");
        assertError(post(server, "/v1/verify", "application/json",
                json(Map.of("a", b64(good), "b", 42)).getBytes(StandardCharsets.UTF_8)), 400,
                "bad_request", "field 'b' must be a base64 string");
        // junk mixed into otherwise valid base64 is an error (it used to be dropped silently)
        String b64good = b64(good);
        String junk = b64good.substring(0, 10) + "!" + b64good.substring(10, 30) + "*" + b64good.substring(30);
        assertError(post(server, "/v1/verify", "application/json",
                json(Map.of("a", b64good, "b", junk)).getBytes(StandardCharsets.UTF_8)), 400, "bad_request",
                "field 'b' is not valid base64: character '!' at position 10 of the base64 text is not in the"
                        + " base64 alphabet");
        assertError(post(server, "/v1/verify", "application/json",
                json(Map.of("a", "data:image/jpeg;base64," + b64good.substring(0, 4) + "\u00e9" + b64good.substring(4),
                        "b", b64good)).getBytes(StandardCharsets.UTF_8)), 400, "bad_request",
                "field 'a' is not valid base64: character U+00E9 at position 4");
        // a JSON body is exactly one object: trailing content after it is an error
        String one = json(Map.of("a", b64good, "b", b64(faces.get(3))));
        assertError(post(server, "/v1/verify", "application/json",
                (one + "{\"c\": 1}").getBytes(StandardCharsets.UTF_8)), 400, "bad_request",
                "request body must be exactly one JSON object, but more follows it at line 1, column "
                        + (one.length() + 1));
        assertError(post(server, "/v1/verify", "application/json",
                (one + " trailing garbage").getBytes(StandardCharsets.UTF_8)), 400, "bad_request",
                "request body is not valid JSON: Unrecognized token 'trailing'");
        assertError(post(server, "/v1/verify", "application/json",
                (one + "]").getBytes(StandardCharsets.UTF_8)), 400, "bad_request", "request body is not valid JSON");
        // a field given twice is refused, not silently overwritten by the second
        String twice = "{\"a\": \"" + b64good + "\", \"a\": \"" + b64(faces.get(3)) + "\", \"b\": \"" + b64good + "\"}";
        assertError(post(server, "/v1/verify", "application/json", twice.getBytes(StandardCharsets.UTF_8)), 400,
                "bad_request", "request body is not valid JSON: Duplicate field 'a'");
        Reply spaced = post(server, "/v1/verify", "application/json", (one + " \r\n\t ").getBytes(StandardCharsets.UTF_8));
        assertEquals(200, spaced.status(), spaced.json().toString()); // whitespace after the object is fine
        assertError(post(server, "/v1/verify", "multipart/form-data; boundary=" + BOUNDARY,
                "garbage without any boundary".getBytes(StandardCharsets.UTF_8)), 400, "bad_request",
                "malformed multipart/form-data body: Missing initial multi part boundary");
        assertError(post(server, "/v1/nope", "image/jpeg", good), 404, "not_found", "POST /v1/nope");
        // errors Jetty answers itself (here: headers above its 8 KiB limit) are JSON with a code too
        RawReply huge = raw(server, ("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(20_000)
                + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII), 0, 0);
        assertEquals(431, huge.status(), huge.text());
        JsonNode hj = JSON.readTree(huge.body());
        assertEquals("headers_too_large", hj.path("code").asText(), huge.text());
        assertEquals(431, hj.path("status").asInt(), huge.text());
        assertError(get(server, "/v1/verify"), 405, "method_not_allowed", "GET");
        assertHealthy(server);
        // and real work still succeeds afterwards
        Reply ok = verify(server, good, faces.get(3));
        assertEquals(200, ok.status());
        assertEquals(sdkScore(good, faces.get(3)), ok.json().path("score").asDouble(), 0.0);
    }

    @Test
    void searchWithoutGalleryAndPixelLimit() throws Exception {
        FaceServer s = FaceServer.builder().setEmbedder(embedder).optThreshold(0.3).optMaxPixels(1000)
                .optCloseEmbedderOnStop(false).build().start(0);
        try {
            assertError(postParts(s, "/v1/search", Map.of("image", faces.get(1))), 404, "no_gallery",
                    "--gallery");
            Reply r = post(s, "/v1/embed", "image/png", encode(textured(40, 40, Color.RED), "png"));
            assertError(r, 422, "invalid_image", "too large, header declares 40x40");
            Reply ok = post(s, "/v1/embed", "image/png", encode(textured(20, 20, Color.RED), "png"));
            assertEquals(200, ok.status());
            assertEquals(0.3, get(s, "/v1/model").json().path("threshold").asDouble());
            assertTrue(get(s, "/v1/model").json().path("gallery").isNull());
        } finally {
            s.stop();
        }
        embedder.embed(textured(4, 4, Color.RED)); // not closed: optCloseEmbedderOnStop(false)
    }

    /** /v1/model and the answers' model_id show file names, never a server-local absolute path. */
    @Test
    void modelInfoHoldsNoLocalPaths() throws Exception {
        Preprocessing pre = Preprocessing.fullImage(H, W, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB);
        Map<String, String> md = new HashMap<>(pre.toMetadata());
        md.put(Verifier.THRESHOLD_KEY, "0.5");
        Path lfw = dir.resolve("data").resolve("lfw");
        md.put("spherekit.training.data", lfw + " people=peopleDevTrain.txt");
        md.put(ModelId.METADATA_KEY, dir.resolve("models").resolve("sphereface-20.onnx").toString());
        Path m = TestModelsAccess.standard(dir.resolve("paths.onnx"), H, W, D, md);
        try (FaceEmbedder e = FaceEmbedder.builder().setModelPath(m).optProvider(Provider.CPU).build()) {
            FaceServer s = FaceServer.builder().setEmbedder(e).optCloseEmbedderOnStop(false).build().start(0);
            try {
                Reply info = get(s, "/v1/model");
                assertEquals(200, info.status());
                String text = info.json().toString();
                assertFalse(text.contains(dir.toString()), text);
                assertEquals("lfw people=peopleDevTrain.txt", info.json().at("/metadata/spherekit.training.data")
                        .asText(), text);
                assertEquals("sphereface-20.onnx", info.json().path("model_id").asText(), text);
                assertEquals("sphereface-20.onnx", info.json().at("/metadata/spherekit.model_id").asText(), text);
                assertEquals("paths.onnx", info.json().path("model_file").asText(), text);
                assertEquals("sphereface-20.onnx", s.modelId());
                Reply r = post(s, "/v1/embed", "image/jpeg", faces.get(0));
                assertEquals("sphereface-20.onnx", r.json().path("model_id").asText(), r.json().toString());
            } finally {
                s.stop();
            }
        }
    }

    @Test
    void galleryOfAnotherDimensionIsRefused() {
        Gallery g = Gallery.builder(D + 1).add("x", unitX(D + 1)).build();
        Exception e = assertThrows(Exception.class, () -> FaceServer.builder().setEmbedder(embedder)
                .optGallery(g).build());
        assertTrue(e.getMessage().contains("holds 9-d embeddings but model"), e.getMessage());
    }

    @Test
    void takenPortIsReportedClearly() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            FaceServer s = FaceServer.builder().setEmbedder(embedder).optThreshold(0.3).build();
            Exception e = assertThrows(Exception.class, () -> s.start(port));
            assertTrue(e.getMessage().contains(":" + port) && e.getMessage().contains("another server using the port"),
                    e.getMessage());
        }
    }

    /** 8 concurrent clients × 50 verify requests: no errors, every score bit-identical to the SDK's. */
    @Test
    void boundedLoadMatchesSdk() throws Exception {
        int clients = 8;
        int perClient = 50;
        int n = faces.size();
        double[][] expected = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                expected[i][j] = sdkScore(faces.get(i), faces.get(j));
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long[] latencies = new long[clients * perClient];
        AtomicInteger errors = new AtomicInteger();
        List<Future<?>> fs = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            int cc = c;
            fs.add(pool.submit(() -> {
                Random r = new Random(cc);
                for (int k = 0; k < perClient; k++) {
                    int i = r.nextInt(n);
                    int j = r.nextInt(n);
                    long s = System.nanoTime();
                    Reply rep = verify(server, faces.get(i), faces.get(j));
                    latencies[cc * perClient + k] = System.nanoTime() - s;
                    if (rep.status() != 200) {
                        errors.incrementAndGet();
                        throw new AssertionError("request failed: " + rep.json());
                    }
                    assertEquals(expected[i][j], rep.json().path("score").asDouble(), 0.0, i + " vs " + j);
                }
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get(60, TimeUnit.SECONDS);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        pool.shutdown();
        assertEquals(0, errors.get());
        Arrays.sort(latencies);
        System.out.printf(Locale.ROOT, "load: %d verify requests, %d clients: %.1f req/s, p50 %.2f ms, p99 %.2f ms%n",
                latencies.length, clients, latencies.length / seconds, latencies[latencies.length / 2] / 1e6,
                latencies[(int) Math.ceil(latencies.length * 0.99) - 1] / 1e6);
        assertEquals(0, server.admitted());
        assertHealthy(server);
    }

    /** One slot, one queue place: the third request is refused, the queued one times out, the slow one 504s. */
    @Test
    void concurrencyLimitAndTimeouts() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch gate = new CountDownLatch(1);
        FaceServer s = FaceServer.builder().setEmbedder(embedder).optMaxConcurrency(1).optMaxQueue(1)
                .optTimeoutMillis(700).optCloseEmbedderOnStop(false)
                .beforeWork(name -> {
                    if (gate.getCount() > 0) {
                        entered.countDown();
                        try {
                            gate.await(10, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }).build().start(0);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            byte[] img = faces.get(1);
            Future<Reply> slow = pool.submit(() -> post(s, "/v1/embed", "image/jpeg", img));
            assertTrue(entered.await(5, TimeUnit.SECONDS));
            Future<Reply> queued = pool.submit(() -> post(s, "/v1/embed", "image/jpeg", img));
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (s.admitted() < 2 && System.nanoTime() < until) {
                Thread.sleep(2);
            }
            assertEquals(2, s.admitted());
            Reply full = get(s, "/readyz"); // alive, but cannot take work now
            assertEquals(503, full.status(), full.json().toString());
            assertEquals("not_ready", full.json().path("status").asText());
            assertEquals("queue_full", full.json().path("reason").asText());
            assertHealthy(s);
            assertError(post(s, "/v1/embed", "image/jpeg", img), 429, "too_many_requests", "retry later");
            assertError(queued.get(10, TimeUnit.SECONDS), 503, "busy", "no inference slot");
            assertError(slow.get(10, TimeUnit.SECONDS), 504, "timeout", "700 ms");
            gate.countDown();
            until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            Reply after;
            do { // the timed-out work finishes in the background, then frees its slot
                after = post(s, "/v1/embed", "image/jpeg", img);
            } while (after.status() == 503 && System.nanoTime() < until);
            assertEquals(200, after.status(), after.json().toString());
            assertHealthy(s);
            Reply ready = get(s, "/readyz");
            assertEquals(200, ready.status(), ready.json().toString());
            assertEquals("ready", ready.json().path("status").asText());
        } finally {
            gate.countDown();
            pool.shutdownNow();
            s.stop();
        }
    }

    /** stop(): the listening socket closes, the in-flight request completes, the embedder is closed. */
    @Test
    void gracefulShutdown() throws Exception {
        FaceEmbedder own = open();
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch gate = new CountDownLatch(1);
        FaceServer s = FaceServer.builder().setEmbedder(own).optDrainMillis(10_000).beforeWork(name -> {
            entered.countDown();
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }).build().start(0);
        int port = s.port();
        byte[] a = faces.get(4);
        byte[] b = faces.get(5);
        double expected = sdkScore(a, b);
        CompletableFuture<Reply> inFlight = CompletableFuture.supplyAsync(() -> {
            try {
                return verify(s, a, b);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        assertTrue(entered.await(5, TimeUnit.SECONDS));
        CompletableFuture<Void> stopping = CompletableFuture.runAsync(s::stop);
        // the listening socket closes while the request is still held
        HttpRequest probe = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz"))
                .timeout(Duration.ofSeconds(2)).build();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        boolean refused = false;
        while (!refused && System.nanoTime() < until) {
            try { // a new client each time, so a new connection
                HttpResponse<String> r = HttpClient.newHttpClient().send(probe, HttpResponse.BodyHandlers.ofString());
                assertTrue(r.statusCode() == 200 || r.statusCode() == 503, r.body()); // before the socket closed
                Thread.sleep(10);
            } catch (ConnectException e) {
                refused = true;
            }
        }
        assertTrue(refused, "new connections are refused during shutdown");
        assertFalse(stopping.isDone());
        gate.countDown();
        Reply r = inFlight.get(10, TimeUnit.SECONDS);
        assertEquals(200, r.status(), r.json().toString());
        assertEquals(expected, r.json().path("score").asDouble(), 0.0);
        stopping.get(10, TimeUnit.SECONDS);
        assertThrows(IllegalStateException.class, () -> own.embed(textured(4, 4, Color.RED)));
        s.stop(); // idempotent
    }

    /** Sends the head, then one body byte every {@code pauseMillis} until the server answers; returns the answer. */
    static RawReply trickle(FaceServer s, String path, int contentLength, long pauseMillis) throws IOException {
        try (Socket so = new Socket(InetAddress.getLoopbackAddress(), s.port())) {
            so.setSoTimeout(30_000);
            OutputStream out = so.getOutputStream();
            InputStream in = so.getInputStream();
            out.write(uploadHead(path, contentLength));
            out.flush();
            for (int i = 0; i < contentLength && in.available() == 0; i++) {
                sleep(pauseMillis);
                if (in.available() == 0) {
                    out.write('x');
                    out.flush();
                }
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            int sep = text.indexOf("\r\n\r\n");
            if (!text.startsWith("HTTP/1.1 ") || sep < 0) {
                throw new AssertionError("not an HTTP reply: " + text);
            }
            return new RawReply(Integer.parseInt(text.substring(9, 12)), text.substring(0, sep),
                    text.substring(sep + 4));
        }
    }

    static void assertRawError(RawReply r, int status, String code, String messagePart) throws IOException {
        assertEquals(status, r.status(), r.text());
        JsonNode j = JSON.readTree(r.body());
        assertEquals(code, j.path("code").asText(), r.text());
        assertTrue(j.path("message").asText().contains(messagePart), r.text());
        assertTrue(r.head().toLowerCase(Locale.ROOT).contains("connection: close"), r.head());
    }

    /**
     * One inference slot and no queue: stalled and trickling uploads are read on the HTTP threads and hold no
     * place, so a normal client is served while they are attached; they are cut off with 408 request_too_slow.
     */
    @Test
    void slowAndStalledUploadsHoldNoPlace() throws Exception {
        FaceServer s = FaceServer.builder().setEmbedder(embedder).optMaxConcurrency(1).optMaxQueue(0)
                .optReadTimeoutMillis(20_000).optMinBodyBytesPerSecond(1024).optCloseEmbedderOnStop(false)
                .build().start(0);
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<RawReply>> slow = new ArrayList<>();
            for (int i = 0; i < 3; i++) { // headers, then nothing
                slow.add(pool.submit(() -> raw(s, uploadHead("/v1/embed", 5000), 0, 0)));
            }
            for (int i = 0; i < 3; i++) { // one byte every 300 ms
                slow.add(pool.submit(() -> trickle(s, "/v1/verify", 5000, 300)));
            }
            sleep(300); // let them connect (not an assertion: the replies below hold either way)
            assertEquals(0, s.admitted());
            Reply ready = get(s, "/readyz");
            assertEquals(200, ready.status(), ready.json().toString());
            byte[] img = faces.get(1);
            Reply ok = post(s, "/v1/embed", "image/jpeg", img);
            assertEquals(200, ok.status(), ok.json().toString());
            float[] expected = embedder.embed(Images.read(img, "img", FaceServer.DEFAULT_MAX_PIXELS));
            assertEquals(expected[0], (float) ok.json().path("embedding").get(0).asDouble(), 0f);
            for (Future<RawReply> f : slow) {
                assertRawError(f.get(30, TimeUnit.SECONDS), 408, "request_too_slow", "below the minimum of 1024"
                        + " bytes/s after a " + FaceServer.BODY_RATE_GRACE_MILLIS + " ms grace period");
            }
            assertEquals(0, s.admitted());
            assertHealthy(s);
        } finally {
            pool.shutdownNow();
            s.stop();
        }
    }

    /** With the rate check off, the read deadline still cuts a trickling upload off with 408 request_timeout. */
    @Test
    void readDeadlineBoundsATricklingUpload() throws Exception {
        FaceServer s = FaceServer.builder().setEmbedder(embedder).optReadTimeoutMillis(1500)
                .optMinBodyBytesPerSecond(0).optCloseEmbedderOnStop(false).build().start(0);
        try {
            assertRawError(trickle(s, "/v1/embed", 5000, 200), 408, "request_timeout", "within the 1500 ms read"
                    + " timeout");
            assertEquals(1500, get(s, "/v1/model").json().at("/limits/read_timeout_ms").asLong());
            assertHealthy(s);
        } finally {
            s.stop();
        }
    }

    /** The next read's wait ends where the deadline or the minimum rate after the grace period would be broken. */
    @Test
    void bodyReaderWaitBound() {
        BodyReader r = new BodyReader(1000, 10_000, 1000, 2000);
        long ms = 1_000_000L;
        assertEquals(2000 * ms, r.allowedWaitNanos(0, 0, 0)); // nothing yet: the grace period
        assertEquals(2500 * ms, r.allowedWaitNanos(0, 500, 0)); // 500 bytes buy 0.5 s at 1000 B/s
        assertEquals(-500 * ms, r.allowedWaitNanos(0, 500, 3000 * ms)); // 3 s in, 500 bytes: too slow
        assertEquals(1000 * ms, r.allowedWaitNanos(0, 100_000, 9000 * ms)); // fast: the deadline bounds it
        assertEquals(10_000 * ms, new BodyReader(1000, 10_000, 0, 2000).allowedWaitNanos(0, 0, 0)); // rate off
    }

    /**
     * Stop under load: 16 requests admitted (2 running, 14 waiting for a slot), stop, let the work go: every
     * client gets its answer (the 200 of its request), none sees the connection close without one. Five rounds.
     */
    @Test
    void stopUnderLoadAnswersEveryAcceptedRequest() throws Exception {
        int n = 16;
        for (int round = 0; round < 5; round++) {
            CountDownLatch gate = new CountDownLatch(1);
            FaceServer s = FaceServer.builder().setEmbedder(embedder).optMaxConcurrency(2).optMaxQueue(n)
                    .optDrainMillis(20_000).optCloseEmbedderOnStop(false).beforeWork(name -> {
                        try {
                            gate.await(20, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }).build().start(0);
            HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            List<CompletableFuture<HttpResponse<String>>> replies = new ArrayList<>();
            byte[] img = faces.get(round % faces.size());
            for (int i = 0; i < n; i++) {
                replies.add(c.sendAsync(HttpRequest.newBuilder(uri(s, "/v1/embed")).header("Content-Type",
                        "image/jpeg").POST(HttpRequest.BodyPublishers.ofByteArray(img)).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (s.admitted() < n && System.nanoTime() < until) {
                Thread.sleep(2);
            }
            assertEquals(n, s.admitted());
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(s::stop);
            until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!stopping.isDone() && System.nanoTime() < until && replies.stream().noneMatch(f -> f.isDone())) {
                Thread.sleep(2); // stop() has begun: it waits for the admitted requests
                if (System.nanoTime() > until - TimeUnit.SECONDS.toNanos(4)) {
                    break;
                }
            }
            gate.countDown();
            for (CompletableFuture<HttpResponse<String>> f : replies) {
                HttpResponse<String> r = f.get(30, TimeUnit.SECONDS); // an IOException here is a lost response
                assertEquals(200, r.statusCode(), r.body());
                assertEquals(D, JSON.readTree(r.body()).path("dim").asInt(), r.body());
            }
            stopping.get(30, TimeUnit.SECONDS);
        }
    }
}
