package io.spherekit.server;

import io.spherekit.core.ident.Identifier;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.spherekit.core.Images;
import io.spherekit.core.Preprocessing;
import io.spherekit.runtime.FaceDetector;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.Verification;
import io.spherekit.runtime.Verifier;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP endpoints of {@link FaceServer}: the route table, how each request is parsed (on the HTTP thread) into
 * the work that runs on an inference slot ({@link Admission}), and how results and errors are written as JSON.
 * See {@link FaceServer} for the endpoints, their bodies and their error codes.
 */
final class Endpoints {

    private static final Logger LOG = LoggerFactory.getLogger(FaceServer.class); // the service logs under one name
    private static final String ERROR_WRITTEN = "spherekit.error-written";
    /**
     * Request attribute set when the request's answer was counted by {@link Admission#beginKeepAliveAnswer()};
     * {@link Lifecycle} ends the count when Jetty completes the exchange.
     */
    static final String KEEP_ALIVE_COUNTED = "spherekit.keep-alive-counted";
    private static final String VERIFY_USAGE = "send multipart/form-data parts 'a' and 'b', or JSON"
            + " {\"a\": base64, \"b\": base64}";
    private static final String IMAGE_USAGE = "send a multipart/form-data part 'image', JSON {\"image\": base64},"
            + " or the raw image bytes with Content-Type image/*";

    /** What the endpoints serve and their request limits; {@code modelId} as shown to clients (no local paths). */
    record Config(FaceEmbedder embedder, Verifier verifier, Identifier gallery, String modelId, BodyReader body,
                  int maxConcurrency, int maxQueue, long timeoutMillis, long maxPixels) {
        long maxBodyBytes() {
            return body.maxBytes();
        }
    }

    /** Parses a request on the HTTP thread and returns the work to run on an inference slot. */
    @FunctionalInterface
    private interface Endpoint {
        Callable<ObjectNode> parse(Context ctx, RequestInputs in);
    }

    private final ObjectMapper mapper = RequestInputs.jsonMapper();
    private final Config cfg;
    private final Admission admission;
    private final ObjectNode modelInfo;
    private final Inspect inspect;
    private final Page page;

    Endpoints(Config cfg, Admission admission) {
        this.cfg = cfg;
        this.admission = admission;
        this.modelInfo = buildModelInfo();
        this.inspect = new Inspect(mapper, cfg.embedder(), cfg.verifier(), cfg.modelId(), cfg.maxPixels());
        this.page = new Page(admission::stopping);
    }

    /** Registers the routes, the exception mappers and the 404/405 handlers on {@code a}. */
    void install(Javalin a) {
        a.get("/healthz", ctx -> {
            boolean stopping = admission.stopping();
            ObjectNode j = mapper.createObjectNode();
            j.put("status", stopping ? "stopping" : "ok");
            writeJson(ctx, stopping ? 503 : 200, j);
        });
        a.get("/readyz", ctx -> {
            String reason = admission.notReadyReason();
            ObjectNode j = mapper.createObjectNode();
            j.put("status", reason == null ? "ready" : "not_ready");
            if (reason != null) {
                j.put("reason", reason);
            }
            j.put("model_id", cfg.modelId());
            writeJson(ctx, reason == null ? 200 : 503, j);
        });
        a.get("/v1/model", ctx -> writeJson(ctx, 200, modelInfo));
        a.post("/v1/verify", ctx -> handle(ctx, "verify", this::verify));
        a.post("/v1/embed", ctx -> handle(ctx, "embed", this::embed));
        a.post("/v1/search", ctx -> handle(ctx, "search", this::search));
        a.post("/v1/inspect", ctx -> handle(ctx, "inspect", inspect::parse));
        page.install(a);
        a.exception(ApiError.class, (e, ctx) -> writeError(ctx, e));
        a.exception(Exception.class, (e, ctx) -> {
            LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
            writeError(ctx, new ApiError(500, "internal", "internal error: " + e));
        });
        a.error(404, ctx -> {
            if (ctx.attribute(ERROR_WRITTEN) == null) {
                writeError(ctx, new ApiError(404, "not_found", "no such endpoint: " + ctx.method() + " "
                        + ctx.path() + " (endpoints: POST /v1/verify, /v1/embed, /v1/search, /v1/inspect; GET /v1/model,"
                        + " /healthz, /readyz, the page " + Page.paths() + ")"));
            }
        });
        a.error(405, ctx -> {
            if (ctx.attribute(ERROR_WRITTEN) == null) {
                writeError(ctx, new ApiError(405, "method_not_allowed", "method " + ctx.method()
                        + " is not allowed on " + ctx.path()));
            }
        });
    }

    /**
     * Reads the whole body (bounded by {@link BodyReader}, holding no admission place or slot), validates it into
     * the request's work, and only then lets {@link Admission} run that work.
     */
    private void handle(Context ctx, String name, Endpoint endpoint) {
        // The body is read even when stopping: answering before it arrived and closing the connection would
        // reset it while the client still sends, and the client would lose the answer
        byte[] body = cfg.body().read(ctx.req());
        if (admission.stopping()) {
            throw new ApiError(503, "shutting_down", "the server is shutting down", true);
        }
        RequestInputs in = RequestInputs.parse(ctx.req().getContentType(), body, cfg.maxBodyBytes(), mapper);
        Callable<ObjectNode> work = endpoint.parse(ctx, in);
        writeJson(ctx, 200, admission.run(name, work));
    }

    private BufferedImage decode(byte[] data, String name) {
        try {
            return Images.read(data, "'" + name + "'", cfg.maxPixels());
        } catch (IOException e) {
            throw new ApiError(422, "invalid_image", e.getMessage());
        }
    }

    private Callable<ObjectNode> verify(Context ctx, RequestInputs in) {
        if (in.isRaw()) {
            throw new ApiError(415, "unsupported_media_type", "verify needs two images: " + VERIFY_USAGE);
        }
        byte[] a = in.image("a", VERIFY_USAGE);
        byte[] b = in.image("b", VERIFY_USAGE);
        return () -> {
            BufferedImage ia = decode(a, "a");
            BufferedImage ib = decode(b, "b");
            FaceDetector detector = cfg.embedder().detector();
            float[][] e;
            int[] found = null;
            if (detector == null) {
                e = cfg.embedder().embed(List.of(ia, ib), List.of("image 'a'", "image 'b'"));
            } else {
                // the largest face of each image, as verify does; the answer says how many each image holds
                List<FaceDetector.Face> fa = detector.detect(ia);
                List<FaceDetector.Face> fb = detector.detect(ib);
                e = new float[][] {
                    cfg.embedder().embedFace(ia, detector.refine(ia, detector.largest(fa, ia, "image 'a'"))),
                    cfg.embedder().embedFace(ib, detector.refine(ib, detector.largest(fb, ib, "image 'b'")))};
                found = new int[] {fa.size(), fb.size()};
            }
            Verification v;
            try {
                v = cfg.verifier().verify(e[0], e[1]);
            } catch (IllegalArgumentException x) {
                throw new ApiError(422, "unprocessable", "cannot compare the faces: " + x.getMessage()
                        + " (a is image 'a', b is image 'b')");
            }
            ObjectNode j = mapper.createObjectNode();
            j.put("score", v.score());
            j.put("same", v.same());
            j.put("threshold", v.threshold());
            j.put("model_id", cfg.modelId());
            if (found != null) {
                ObjectNode faces = j.putObject("faces");
                faces.put("a", found[0]);
                faces.put("b", found[1]);
                ObjectNode used = j.putObject("face_used"); // 1 = the largest box
                used.put("a", 1);
                used.put("b", 1);
            }
            return j;
        };
    }

    private Callable<ObjectNode> embed(Context ctx, RequestInputs in) {
        byte[] img = in.image("image", IMAGE_USAGE);
        return () -> {
            float[] e = cfg.embedder().embed(decode(img, "image"), "image 'image'");
            ObjectNode j = mapper.createObjectNode();
            ArrayNode arr = j.putArray("embedding");
            for (float f : e) {
                arr.add(f);
            }
            j.put("dim", e.length);
            j.put("normalized", false);
            j.put("model_id", cfg.modelId());
            return j;
        };
    }

    private Callable<ObjectNode> search(Context ctx, RequestInputs in) {
        Identifier gallery = cfg.gallery();
        if (gallery == null) {
            throw new ApiError(404, "no_gallery", "this server has no gallery: start it with --gallery FILE");
        }
        String kText = ctx.queryParam("k");
        if (kText == null) {
            kText = in.field("k");
        }
        int k = FaceServer.DEFAULT_K;
        if (kText != null) {
            try {
                k = Integer.parseInt(kText.strip());
            } catch (NumberFormatException e) {
                throw ApiError.badRequest("k must be an integer in [1," + FaceServer.MAX_K + "], got '" + kText + "'");
            }
            if (k < 1 || k > FaceServer.MAX_K) {
                throw ApiError.badRequest("k must be an integer in [1," + FaceServer.MAX_K + "], got " + k);
            }
        }
        byte[] img = in.image("image", IMAGE_USAGE);
        int kk = k;
        double threshold = cfg.verifier().threshold();
        return () -> {
            float[] e = cfg.embedder().embed(decode(img, "image"), "image 'image'");
            List<Identifier.Match> matches = gallery.search(e, kk);
            ObjectNode j = mapper.createObjectNode();
            ArrayNode arr = j.putArray("matches");
            for (Identifier.Match m : matches) {
                ObjectNode o = arr.addObject();
                o.put("label", m.label());
                o.put("score", m.score());
                o.put("same", m.score() >= threshold);
            }
            // open-set decision at the server's threshold: the best identity, or unknown (not enrolled)
            ObjectNode d = j.putObject("decision");
            boolean known = !matches.isEmpty() && matches.get(0).score() >= threshold;
            d.put("known", known);
            if (known) {
                d.put("label", matches.get(0).label());
            } else {
                d.putNull("label");
            }
            if (matches.isEmpty()) {
                d.putNull("best_score");
            } else {
                d.put("best_score", matches.get(0).score());
            }
            j.put("k", kk);
            j.put("threshold", threshold);
            j.put("model_id", cfg.modelId());
            return j;
        };
    }

    private ObjectNode buildModelInfo() {
        FaceEmbedder embedder = cfg.embedder();
        Verifier verifier = cfg.verifier();
        Identifier gallery = cfg.gallery();
        ObjectNode j = mapper.createObjectNode();
        j.put("model_id", cfg.modelId());
        j.put("model_file", String.valueOf(embedder.modelPath().getFileName()));
        ObjectNode md = j.putObject("metadata");
        embedder.metadata().forEach((k, v) -> md.put(k, LocalPaths.toFileNames(v)));
        Preprocessing p = embedder.preprocessing();
        ObjectNode in = j.putObject("input");
        in.put("layout", "NCHW");
        in.put("channels", 3);
        in.put("height", p.height());
        in.put("width", p.width());
        in.put("channel_order", p.channelOrder().name());
        in.put("preprocessing", p.toString());
        j.put("embedding_dim", embedder.embeddingDim());
        j.put("provider", embedder.provider().name());
        j.put("provider_reason", LocalPaths.toFileNames(embedder.providerReason()));
        j.put("threshold", verifier.threshold());
        j.put("threshold_source", verifier.thresholdSource());
        if (gallery == null) {
            j.putNull("gallery");
        } else {
            ObjectNode g = j.putObject("gallery");
            g.put("kind", gallery instanceof io.spherekit.index.HnswGallery ? "hnsw" : "exact");
            g.put("identities", gallery.identityCount());
            g.put("embeddings", gallery.embeddingCount());
            g.put("model_id", LocalPaths.toFileNames(gallery.modelId()));
        }
        ObjectNode l = j.putObject("limits");
        l.put("max_body_bytes", cfg.maxBodyBytes());
        l.put("max_concurrency", cfg.maxConcurrency());
        l.put("max_queue", cfg.maxQueue());
        l.put("timeout_ms", cfg.timeoutMillis());
        l.put("read_timeout_ms", cfg.body().readTimeoutMillis());
        l.put("min_body_bytes_per_second", cfg.body().minBytesPerSecond());
        l.put("max_pixels", cfg.maxPixels());
        return j;
    }

    private void writeJson(Context ctx, int status, ObjectNode body) {
        byte[] bytes;
        try {
            bytes = mapper.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a response", e);
        }
        ctx.status(status);
        ctx.contentType("application/json");
        if (!"close".equalsIgnoreCase(ctx.res().getHeader("Connection"))
                && ctx.attribute(KEEP_ALIVE_COUNTED) == null) {
            if (admission.beginKeepAliveAnswer()) {
                // counted until Jetty completes the exchange (Lifecycle's listener; see Admission#beginKeepAliveAnswer)
                ctx.attribute(KEEP_ALIVE_COUNTED, Boolean.TRUE);
            } else {
                // while stopping, every answer closes its connection, so that no further request arrives on it
                ctx.header("Connection", "close");
            }
        }
        ctx.result(bytes);
    }

    private void writeError(Context ctx, ApiError e) {
        if (e.status >= 500) {
            LOG.warn("{} {} -> {} {}: {}", ctx.method(), ctx.path(), e.status, e.code, e.getMessage());
        } else {
            LOG.debug("{} {} -> {} {}: {}", ctx.method(), ctx.path(), e.status, e.code, e.getMessage());
        }
        ObjectNode j = mapper.createObjectNode();
        j.put("status", e.status);
        j.put("code", e.code);
        j.put("error", e.code); // the same code, under its original name
        j.put("message", e.getMessage());
        ctx.attribute(ERROR_WRITTEN, Boolean.TRUE);
        if (e.status == 429 || e.status == 503) {
            ctx.header("Retry-After", "1");
        }
        if (e.closeConnection) {
            ctx.header("Connection", "close");
        }
        writeJson(ctx, e.status, j);
    }
}
