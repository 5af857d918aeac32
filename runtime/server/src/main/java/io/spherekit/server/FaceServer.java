package io.spherekit.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.Gallery;
import io.spherekit.core.Images;
import io.spherekit.runtime.ModelId;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.SphereKitException;
import io.spherekit.runtime.Verification;
import io.spherekit.runtime.Verifier;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.eclipse.jetty.server.Connector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SphereKit HTTP service: face verification, embedding and 1:N search over one {@link FaceEmbedder}.
 *
 * <p>Endpoints (every response, errors included, is JSON):
 * <ul>
 *   <li>{@code POST /v1/verify}: two images, as multipart parts {@code a} and {@code b} or a JSON object
 *       {@code {"a": base64, "b": base64}} → {@code {"score", "same", "threshold", "model_id"}}.</li>
 *   <li>{@code POST /v1/embed}: one image (multipart part {@code image}, JSON {@code {"image": base64}}, or the
 *       raw bytes with {@code Content-Type: image/*}) → {@code {"embedding": [...], "dim", "normalized": false,
 *       "model_id"}}; the embedding is raw, as {@link FaceEmbedder#embed}.</li>
 *   <li>{@code POST /v1/search}: one image as for embed, and {@code k} (query parameter, multipart field or JSON
 *       number; default {@value #DEFAULT_K}, at most {@value #MAX_K}) → {@code {"matches": [{"label", "score",
 *       "same"}], "k", "threshold", "model_id"}}; 404 when the server has no gallery.</li>
 *   <li>{@code GET /healthz} → 200 {@code {"status": "ok"}}, or 503 {@code {"status": "stopping"}}.</li>
 *   <li>{@code GET /v1/model} → model id, file, metadata, input size and preprocessing, embedding dim, active
 *       provider and the reason it was chosen, threshold, gallery summary, limits.</li>
 * </ul>
 *
 * <p>Errors are {@code {"status", "error", "message"}}: 400 empty or malformed body, missing part, bad base64 or
 * {@code k}; 404/405 unknown endpoint or no gallery; 413 body above the size limit; 415 unsupported content type;
 * 422 data that is not a decodable image (or is truncated, or exceeds the pixel limit); 429 more requests than
 * {@code maxConcurrency + maxQueue} at once; 503 no inference slot freed up before the deadline, or shutting
 * down; 504 the request ran past its timeout; 500 an inference failure.
 *
 * <p>Limits: at most {@code maxConcurrency} requests decode and run inference at once (a semaphore; their work
 * runs on a pool of as many threads), at most {@code maxQueue} more wait for a slot, and each request has one
 * deadline, {@code timeoutMillis} after it reached the handler, covering its wait and its work. Work that passes
 * its deadline is answered with 504 at once but finishes in the background and keeps its slot until then (ONNX
 * Runtime cannot be interrupted), so the concurrency bound holds under overload.
 *
 * <p>Shutdown ({@link #stop()}): the listening socket is closed, new requests on open connections get 503,
 * in-flight requests finish (up to {@code drainMillis}), Jetty stops, and the embedder is closed (unless
 * {@link Builder#optCloseEmbedderOnStop} was set to false).
 *
 * <pre>{@code
 * FaceEmbedder e = FaceEmbedder.builder().setModelPath(Path.of("m.onnx")).build();
 * FaceServer s = FaceServer.builder().setEmbedder(e).optThreshold(0.31).build().start(8080);
 * ...
 * s.stop(); // also closes e
 * }</pre>
 */
public final class FaceServer implements AutoCloseable {

    /** Default request body limit: 10 MiB. */
    public static final long DEFAULT_MAX_BODY_BYTES = 10L * 1024 * 1024;
    /** Default number of requests that may wait for an inference slot. */
    public static final int DEFAULT_MAX_QUEUE = 32;
    /** Default per-request timeout. */
    public static final long DEFAULT_TIMEOUT_MILLIS = 10_000;
    /** Default pixel limit of an uploaded image: 25 megapixels. */
    public static final long DEFAULT_MAX_PIXELS = 25_000_000L;
    /** Default time {@link #stop()} waits for in-flight requests. */
    public static final long DEFAULT_DRAIN_MILLIS = 30_000;
    /** Default number of search results. */
    public static final int DEFAULT_K = 5;
    /** Largest accepted {@code k}. */
    public static final int MAX_K = 1000;

    private static final Logger LOG = LoggerFactory.getLogger(FaceServer.class);
    private static final String ERROR_WRITTEN = "spherekit.error-written";
    private static final String VERIFY_USAGE = "send multipart/form-data parts 'a' and 'b', or JSON"
            + " {\"a\": base64, \"b\": base64}";
    private static final String IMAGE_USAGE = "send a multipart/form-data part 'image', JSON {\"image\": base64},"
            + " or the raw image bytes with Content-Type image/*";

    private final ObjectMapper mapper = new ObjectMapper();
    private final FaceEmbedder embedder;
    private final Verifier verifier;
    private final Gallery gallery;
    private final String modelId;
    private final String host;
    private final long maxBodyBytes;
    private final int maxConcurrency;
    private final int maxQueue;
    private final long timeoutMillis;
    private final long maxPixels;
    private final long drainMillis;
    private final boolean closeEmbedderOnStop;
    private final Consumer<String> beforeWork;
    private final Semaphore admission;
    private final Semaphore slots;
    private final ExecutorService workers;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final ObjectNode modelInfo;
    private volatile boolean stopping;
    private Javalin app;
    private boolean stopCalled;

    private FaceServer(Builder b, Verifier verifier, String modelId) {
        this.embedder = b.embedder;
        this.verifier = verifier;
        this.gallery = b.gallery;
        this.modelId = modelId;
        this.host = b.host;
        this.maxBodyBytes = b.maxBodyBytes;
        this.maxConcurrency = b.maxConcurrency;
        this.maxQueue = b.maxQueue;
        this.timeoutMillis = b.timeoutMillis;
        this.maxPixels = b.maxPixels;
        this.drainMillis = b.drainMillis;
        this.closeEmbedderOnStop = b.closeEmbedderOnStop;
        this.beforeWork = b.beforeWork;
        this.admission = new Semaphore(maxConcurrency + maxQueue);
        this.slots = new Semaphore(maxConcurrency);
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(maxConcurrency, maxConcurrency, 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "spherekit-infer-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        this.modelInfo = buildModelInfo();
    }

    /** @return a new builder; {@link Builder#setEmbedder} is required */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts listening.
     *
     * @param port TCP port, or 0 for an ephemeral port (see {@link #port()})
     * @return this server
     * @throws SphereKitException    if the port cannot be bound
     * @throws IllegalStateException if the server was already started or stopped (a server is started once)
     */
    public synchronized FaceServer start(int port) throws SphereKitException {
        if (app != null || stopCalled) {
            throw new IllegalStateException("FaceServer was already " + (stopCalled ? "stopped" : "started"));
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in [0,65535], got " + port);
        }
        if (port != 0) {
            // Jetty/Javalin report a taken port as "IllegalStateException: STOPPED"; probe it first for a clear error
            try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
                probe.setReuseAddress(true);
                probe.bind(new java.net.InetSocketAddress(host, port));
            } catch (java.io.IOException e) {
                throw new SphereKitException("cannot listen on " + host + ":" + port + ": " + e.getMessage()
                        + " (is another server using the port?)", e);
            }
        }
        app = createApp();
        try {
            app.start(host, port);
        } catch (RuntimeException e) {
            app = null;
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof java.net.BindException) {
                    throw new SphereKitException("cannot listen on " + host + ":" + port
                            + ": the port is already in use or not permitted (" + t.getMessage() + ")", e);
                }
            }
            throw new SphereKitException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        LOG.info("serving {} ({}-d, {}) on http://{}:{}/ with max concurrency {}, queue {}, timeout {} ms{}",
                modelId, embedder.embeddingDim(), embedder.provider(), host, port(), maxConcurrency, maxQueue,
                timeoutMillis, gallery == null ? "" : ", gallery " + gallery);
        return this;
    }

    /** @return the bound port (the real one when started with port 0) */
    public synchronized int port() {
        if (app == null) {
            throw new IllegalStateException("FaceServer is not started");
        }
        return app.port();
    }

    /** @return the model id reported in responses */
    public String modelId() {
        return modelId;
    }

    /**
     * Graceful shutdown: stops accepting connections, answers new requests with 503, waits up to
     * {@code drainMillis} for in-flight requests, stops the HTTP server and the inference pool, and closes the
     * embedder (unless disabled). Idempotent; safe to call from a shutdown hook.
     */
    public void stop() {
        Javalin a;
        synchronized (this) {
            if (stopCalled) {
                return;
            }
            stopCalled = true;
            a = app;
        }
        stopping = true;
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainMillis);
        try {
            if (a != null) {
                for (Connector c : a.jettyServer().server().getConnectors()) {
                    c.shutdown(); // Graceful: closes the listening socket, keeps open connections
                }
                while (inFlight.get() > 0 && System.nanoTime() < end) {
                    Thread.sleep(5);
                }
                if (inFlight.get() > 0) {
                    LOG.warn("stopping with {} requests still in flight after {} ms", inFlight.get(), drainMillis);
                }
                a.stop();
            }
            workers.shutdown();
            long left = end - System.nanoTime();
            if (!workers.awaitTermination(Math.max(left, TimeUnit.SECONDS.toNanos(1)), TimeUnit.NANOSECONDS)) {
                LOG.warn("inference still running at shutdown");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (closeEmbedderOnStop) {
                embedder.close();
            }
            stopped.countDown();
            LOG.info("stopped");
        }
    }

    /** @return requests admitted right now (running or waiting for a slot); for tests and monitoring */
    int admitted() {
        return maxConcurrency + maxQueue - admission.availablePermits();
    }

    /** Blocks until {@link #stop()} has finished. */
    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    /** Same as {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }

    private Javalin createApp() {
        Javalin a = Javalin.create(cfg -> {
            cfg.showJavalinBanner = false;
            cfg.startupWatcherEnabled = false;
            cfg.http.prefer405over404 = true;
            cfg.http.maxRequestSize = maxBodyBytes;
            cfg.jetty.modifyServer(s -> s.setStopTimeout(drainMillis));
            cfg.jetty.modifyHttpConfiguration(h -> h.setSendServerVersion(false));
        });
        a.get("/healthz", ctx -> {
            ObjectNode j = mapper.createObjectNode();
            j.put("status", stopping ? "stopping" : "ok");
            writeJson(ctx, stopping ? 503 : 200, j);
        });
        a.get("/v1/model", ctx -> writeJson(ctx, 200, modelInfo));
        a.post("/v1/verify", ctx -> handle(ctx, "verify", this::verify));
        a.post("/v1/embed", ctx -> handle(ctx, "embed", this::embed));
        a.post("/v1/search", ctx -> handle(ctx, "search", this::search));
        a.exception(ApiError.class, (e, ctx) -> writeError(ctx, e));
        a.exception(Exception.class, (e, ctx) -> {
            LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
            writeError(ctx, new ApiError(500, "internal", "internal error: " + e));
        });
        a.error(404, ctx -> {
            if (ctx.attribute(ERROR_WRITTEN) == null) {
                writeError(ctx, new ApiError(404, "not_found", "no such endpoint: " + ctx.method() + " "
                        + ctx.path() + " (endpoints: POST /v1/verify, /v1/embed, /v1/search; GET /v1/model,"
                        + " /healthz)"));
            }
        });
        a.error(405, ctx -> {
            if (ctx.attribute(ERROR_WRITTEN) == null) {
                writeError(ctx, new ApiError(405, "method_not_allowed", "method " + ctx.method()
                        + " is not allowed on " + ctx.path()));
            }
        });
        return a;
    }

    /** Parses a request on the HTTP thread and returns the work to run on an inference slot. */
    @FunctionalInterface
    private interface Endpoint {
        Callable<ObjectNode> parse(Context ctx, RequestInputs in);
    }

    private void handle(Context ctx, String name, Endpoint endpoint) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        inFlight.incrementAndGet();
        try {
            if (stopping) {
                throw new ApiError(503, "shutting_down", "the server is shutting down", true);
            }
            if (!admission.tryAcquire()) {
                throw new ApiError(429, "too_many_requests", "too many requests: " + maxConcurrency
                        + " running and " + maxQueue + " waiting; retry later");
            }
            try {
                RequestInputs in = RequestInputs.read(ctx.req(), maxBodyBytes, mapper);
                Callable<ObjectNode> work = endpoint.parse(ctx, in);
                writeJson(ctx, 200, run(name, work, deadline));
            } finally {
                admission.release();
            }
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private ObjectNode run(String name, Callable<ObjectNode> work, long deadline) {
        try {
            if (!slots.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new ApiError(503, "busy", "no inference slot became free within the " + timeoutMillis
                        + " ms timeout (" + maxConcurrency + " running); retry later");
            }
            Future<ObjectNode> f;
            try {
                f = workers.submit(() -> {
                    try {
                        beforeWork.accept(name);
                        return work.call();
                    } finally {
                        slots.release();
                    }
                });
            } catch (RejectedExecutionException e) {
                slots.release();
                throw new ApiError(503, "shutting_down", "the server is shutting down", true);
            }
            return f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new ApiError(504, "timeout", "the request did not finish within the " + timeoutMillis
                    + " ms timeout");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError(503, "shutting_down", "interrupted while waiting", true);
        } catch (ExecutionException e) {
            throw toApiError(e.getCause());
        }
    }

    private ApiError toApiError(Throwable t) {
        if (t instanceof ApiError a) {
            return a;
        }
        if (t instanceof IllegalArgumentException) {
            return new ApiError(422, "unprocessable", t.getMessage());
        }
        if (t instanceof IllegalStateException) {
            return new ApiError(503, "shutting_down", t.getMessage(), true);
        }
        if (t instanceof SphereKitException) {
            LOG.error("inference failed", t);
            return new ApiError(500, "inference_failed", t.getMessage());
        }
        LOG.error("request failed", t);
        return new ApiError(500, "internal", "internal error: " + t);
    }

    private BufferedImage decode(byte[] data, String name) {
        try {
            return Images.read(data, "'" + name + "'", maxPixels);
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
            float[][] e = embedder.embed(List.of(ia, ib));
            Verification v;
            try {
                v = verifier.verify(e[0], e[1]);
            } catch (IllegalArgumentException x) {
                throw new ApiError(422, "unprocessable", "cannot compare the faces: " + x.getMessage()
                        + " (a is image 'a', b is image 'b')");
            }
            ObjectNode j = mapper.createObjectNode();
            j.put("score", v.score());
            j.put("same", v.same());
            j.put("threshold", v.threshold());
            j.put("model_id", modelId);
            return j;
        };
    }

    private Callable<ObjectNode> embed(Context ctx, RequestInputs in) {
        byte[] img = in.image("image", IMAGE_USAGE);
        return () -> {
            float[] e = embedder.embed(decode(img, "image"));
            ObjectNode j = mapper.createObjectNode();
            ArrayNode arr = j.putArray("embedding");
            for (float f : e) {
                arr.add(f);
            }
            j.put("dim", e.length);
            j.put("normalized", false);
            j.put("model_id", modelId);
            return j;
        };
    }

    private Callable<ObjectNode> search(Context ctx, RequestInputs in) {
        if (gallery == null) {
            throw new ApiError(404, "no_gallery", "this server has no gallery: start it with --gallery FILE");
        }
        String kText = ctx.queryParam("k");
        if (kText == null) {
            kText = in.field("k");
        }
        int k = DEFAULT_K;
        if (kText != null) {
            try {
                k = Integer.parseInt(kText.strip());
            } catch (NumberFormatException e) {
                throw ApiError.badRequest("k must be an integer in [1," + MAX_K + "], got '" + kText + "'");
            }
            if (k < 1 || k > MAX_K) {
                throw ApiError.badRequest("k must be an integer in [1," + MAX_K + "], got " + k);
            }
        }
        byte[] img = in.image("image", IMAGE_USAGE);
        int kk = k;
        return () -> {
            float[] e = embedder.embed(decode(img, "image"));
            List<Gallery.Match> matches = gallery.search(e, kk);
            ObjectNode j = mapper.createObjectNode();
            ArrayNode arr = j.putArray("matches");
            for (Gallery.Match m : matches) {
                ObjectNode o = arr.addObject();
                o.put("label", m.label());
                o.put("score", m.score());
                o.put("same", m.score() >= verifier.threshold());
            }
            j.put("k", kk);
            j.put("threshold", verifier.threshold());
            j.put("model_id", modelId);
            return j;
        };
    }

    private ObjectNode buildModelInfo() {
        ObjectNode j = mapper.createObjectNode();
        j.put("model_id", modelId);
        j.put("model_file", String.valueOf(embedder.modelPath().getFileName()));
        ObjectNode md = j.putObject("metadata");
        embedder.metadata().forEach(md::put);
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
        j.put("provider_reason", embedder.providerReason());
        j.put("threshold", verifier.threshold());
        j.put("threshold_source", verifier.thresholdSource());
        if (gallery == null) {
            j.putNull("gallery");
        } else {
            ObjectNode g = j.putObject("gallery");
            g.put("identities", gallery.labels().size());
            g.put("embeddings", gallery.size());
            g.put("model_id", gallery.modelId());
        }
        ObjectNode l = j.putObject("limits");
        l.put("max_body_bytes", maxBodyBytes);
        l.put("max_concurrency", maxConcurrency);
        l.put("max_queue", maxQueue);
        l.put("timeout_ms", timeoutMillis);
        l.put("max_pixels", maxPixels);
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
        j.put("error", e.code);
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

    /**
     * Configures a {@link FaceServer}: {@code set*} is required, {@code opt*} optional. {@link #build()}
     * validates.
     */
    public static final class Builder {
        private FaceEmbedder embedder;
        private Double threshold;
        private Gallery gallery;
        private String host = "127.0.0.1";
        private long maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
        private int maxConcurrency = Runtime.getRuntime().availableProcessors();
        private int maxQueue = DEFAULT_MAX_QUEUE;
        private long timeoutMillis = DEFAULT_TIMEOUT_MILLIS;
        private long maxPixels = DEFAULT_MAX_PIXELS;
        private long drainMillis = DEFAULT_DRAIN_MILLIS;
        private boolean closeEmbedderOnStop = true;
        private Consumer<String> beforeWork = name -> { };

        private Builder() {
        }

        /** @param e the embedder to serve (required); the server closes it on {@link #stop()} by default */
        public Builder setEmbedder(FaceEmbedder e) {
            this.embedder = Objects.requireNonNull(e, "embedder");
            return this;
        }

        /** @param t cosine threshold in [-1, 1]; default: the model metadata {@link Verifier#THRESHOLD_KEY} */
        public Builder optThreshold(double t) {
            if (!(t >= -1 && t <= 1)) {
                throw new IllegalArgumentException("threshold must be a cosine in [-1,1], got " + t);
            }
            this.threshold = t;
            return this;
        }

        /** @param g gallery for {@code /v1/search}; default none (search answers 404) */
        public Builder optGallery(Gallery g) {
            this.gallery = g;
            return this;
        }

        /** @param h address to bind; default {@code 127.0.0.1} (use {@code 0.0.0.0} for all interfaces) */
        public Builder optHost(String h) {
            this.host = Objects.requireNonNull(h, "host");
            return this;
        }

        /** @param n request body limit in bytes, {@code >= 1}; default {@value #DEFAULT_MAX_BODY_BYTES} */
        public Builder optMaxBodyBytes(long n) {
            this.maxBodyBytes = positive("maxBodyBytes", n);
            return this;
        }

        /** @param n requests decoded and embedded at once, {@code >= 1}; default: available processors */
        public Builder optMaxConcurrency(int n) {
            this.maxConcurrency = (int) positive("maxConcurrency", n);
            return this;
        }

        /**
         * @param n requests that may wait for a slot, {@code >= 0}; more get 429; default
         *          {@value #DEFAULT_MAX_QUEUE}
         */
        public Builder optMaxQueue(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("maxQueue must be >= 0, got " + n);
            }
            this.maxQueue = n;
            return this;
        }

        /** @param ms per-request deadline, {@code >= 1}; default {@value #DEFAULT_TIMEOUT_MILLIS} */
        public Builder optTimeoutMillis(long ms) {
            this.timeoutMillis = positive("timeoutMillis", ms);
            return this;
        }

        /** @param n largest accepted image, width · height, {@code >= 1}; default {@value #DEFAULT_MAX_PIXELS} */
        public Builder optMaxPixels(long n) {
            this.maxPixels = positive("maxPixels", n);
            return this;
        }

        /** @param ms how long {@link FaceServer#stop()} waits for in-flight requests; default 30 000 */
        public Builder optDrainMillis(long ms) {
            if (ms < 0) {
                throw new IllegalArgumentException("drainMillis must be >= 0, got " + ms);
            }
            this.drainMillis = ms;
            return this;
        }

        /** @param close whether {@link FaceServer#stop()} closes the embedder; default true */
        public Builder optCloseEmbedderOnStop(boolean close) {
            this.closeEmbedderOnStop = close;
            return this;
        }

        /** Test hook: runs on the inference thread before each request's work, with the endpoint name. */
        Builder beforeWork(Consumer<String> hook) {
            this.beforeWork = Objects.requireNonNull(hook, "hook");
            return this;
        }

        private static long positive(String name, long v) {
            if (v < 1) {
                throw new IllegalArgumentException(name + " must be >= 1, got " + v);
            }
            return v;
        }

        /**
         * @return a server, not yet started
         * @throws SphereKitException    if no threshold was given and the model has none, the gallery's dimension
         *                               differs from the model's, or the model file cannot be read for its id
         * @throws IllegalStateException if no embedder was set
         */
        public FaceServer build() throws SphereKitException {
            if (embedder == null) {
                throw new IllegalStateException("setEmbedder(FaceEmbedder) is required");
            }
            Verifier v = threshold != null ? Verifier.withThreshold(embedder, threshold)
                    : Verifier.fromModelMetadata(embedder);
            String id = ModelId.of(embedder);
            if (gallery != null) {
                if (gallery.dim() != embedder.embeddingDim()) {
                    throw new SphereKitException("gallery " + gallery + " holds " + gallery.dim()
                            + "-d embeddings but model " + id + " produces " + embedder.embeddingDim() + "-d ones");
                }
                if (!gallery.modelId().isEmpty() && !gallery.modelId().equals(id)) {
                    LOG.warn("gallery was built with model {} but the server runs {}; scores may be meaningless",
                            gallery.modelId(), id);
                }
            }
            return new FaceServer(this, v, id);
        }
    }
}
