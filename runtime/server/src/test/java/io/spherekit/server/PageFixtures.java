package io.spherekit.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.SphereKitException;
import io.spherekit.runtime.FaceDetector;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.Provider;
import io.spherekit.runtime.TestModelsAccess;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the tests of {@code /v1/inspect} and of the page share: the LFW photos (the ones {@link AlignCliTest}
 * uses), the tiny test model with the SphereFace crop, servers with and without a detector, and HTTP helpers.
 */
final class PageFixtures {

    static final Path LFW = Path.of(System.getProperty("spherekit.root", "."), "..", "shared", "data", "lfw")
            .normalize();
    static final Path BLAIR_1 = LFW.resolve("lfw-deepfunneled/Tony_Blair/Tony_Blair_0001.jpg");
    static final Path BLAIR_2 = LFW.resolve("lfw-deepfunneled/Tony_Blair/Tony_Blair_0002.jpg");
    static final Path SERENA_1 = LFW.resolve("lfw-deepfunneled/Serena_Williams/Serena_Williams_0001.jpg");
    /** The test model's threshold and where it says it came from. */
    static final double THRESHOLD = 0.5;
    static final String THRESHOLD_SOURCE = "a test fixture's choice";
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    static final String BOUNDARY = "sk-page-boundary-93hf7sQ";

    private PageFixtures() {
    }

    /** The tiny model of {@code TestModels.standard} at 112×96 with the LFW SphereFace crop and a threshold. */
    static Path model(Path dir) throws IOException {
        Map<String, String> md = new HashMap<>(Preprocessing.LFW_SPHEREFACE.toMetadata());
        md.put("spherekit.threshold", Double.toString(THRESHOLD));
        md.put("spherekit.threshold.source", THRESHOLD_SOURCE);
        return TestModelsAccess.standard(dir.resolve("page-model.onnx"), 112, 96, 8, md);
    }

    /** @param detect whether the embedder detects and aligns (serve --align detect) or takes the fixed crop */
    static FaceEmbedder embedder(Path model, boolean detect) throws SphereKitException {
        FaceEmbedder.Builder b = FaceEmbedder.builder().setModelPath(model).optProvider(Provider.CPU);
        if (detect) {
            b.optDetector(FaceDetector.builder().optProvider(Provider.CPU).build());
        }
        return b.build();
    }

    /** A started server on an ephemeral loopback port. */
    static FaceServer server(Path model, boolean detect, long maxBodyBytes) throws SphereKitException {
        return FaceServer.builder().setEmbedder(embedder(model, detect)).optMaxBodyBytes(maxBodyBytes).build()
                .start(0);
    }

    record Reply(int status, HttpResponse<byte[]> response, JsonNode json) {
        String header(String name) {
            return response.headers().firstValue(name).orElse("");
        }

        String text() {
            return new String(response.body(), StandardCharsets.UTF_8);
        }
    }

    static URI uri(FaceServer s, String path) {
        return URI.create("http://127.0.0.1:" + s.port() + path);
    }

    static Reply send(HttpRequest req) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = CLIENT.send(req, HttpResponse.BodyHandlers.ofByteArray());
        JsonNode j = null;
        if (r.headers().firstValue("Content-Type").orElse("").startsWith("application/json")) {
            j = JSON.readTree(r.body());
        }
        return new Reply(r.statusCode(), r, j);
    }

    static Reply get(FaceServer s, String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(s, path)).timeout(Duration.ofSeconds(30)).GET().build());
    }

    static Reply post(FaceServer s, String path, String contentType, byte[] body)
            throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(s, path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
    }

    /** POSTs {@code a} and {@code b} as multipart/form-data parts, as the page does. */
    static Reply postPair(FaceServer s, String path, byte[] a, byte[] b) throws IOException, InterruptedException {
        Map<String, byte[]> parts = new LinkedHashMap<>();
        parts.put("a", a);
        parts.put("b", b);
        return post(s, path, "multipart/form-data; boundary=" + BOUNDARY, multipart(parts));
    }

    static byte[] multipart(Map<String, byte[]> parts) {
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
