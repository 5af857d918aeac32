package io.spherekit.server;

import io.spherekit.core.SphereKitException;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.core.ident.Identifier;
import io.spherekit.runtime.ModelId;
import io.spherekit.runtime.Verifier;
import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SphereKit HTTP service: face verification, embedding and 1:N search over one {@link FaceEmbedder}.
 *
 * <p>Endpoints (every response, errors included, is JSON, except the page's files):
 * <ul>
 *   <li>{@code POST /v1/verify}: two images, as multipart parts {@code a} and {@code b} or a JSON object
 *       {@code {"a": base64, "b": base64}} → {@code {"score", "same", "threshold", "model_id"}}.</li>
 *   <li>{@code POST /v1/embed}: one image (multipart part {@code image}, JSON {@code {"image": base64}}, or the
 *       raw bytes with {@code Content-Type: image/*}) → {@code {"embedding": [...], "dim", "normalized": false,
 *       "model_id"}}; the embedding is raw, as {@link FaceEmbedder#embed}.</li>
 *   <li>{@code POST /v1/search}: one image as for embed, and {@code k} (query parameter, multipart field or JSON
 *       number; default {@value #DEFAULT_K}, at most {@value #MAX_K}) → {@code {"matches": [{"label", "score",
 *       "same"}], "decision": {"known", "label" (null when unknown), "best_score"}, "k", "threshold", "model_id"}}:
 *       top-k identification in the served gallery (exact file or HNSW index) and the open-set decision at the
 *       server's threshold; 404 when the server has no gallery.</li>
 *   <li>{@code POST /v1/inspect}: two images as for verify → verify's score and decision with, per image, the
 *       detected faces, the face used, the fixed crop box and the model-input crop as a PNG ({@link Inspect}).</li>
 *   <li>{@code GET /}: a page for people that compares two photos with {@code /v1/inspect} ({@link Page}; HTML,
 *       CSS and JavaScript, the only answers that are not JSON).</li>
 *   <li>{@code GET /healthz} (liveness) → 200 {@code {"status": "ok"}}, or 503 {@code {"status": "stopping"}}.</li>
 *   <li>{@code GET /readyz} (readiness: can take work now) → 200 {@code {"status": "ready", "model_id"}}, or 503
 *       {@code {"status": "not_ready", "reason": "stopping" | "queue_full", "model_id"}}.</li>
 *   <li>{@code GET /v1/model} → model id, file, metadata, input size and preprocessing, embedding dim, active
 *       provider and the reason it was chosen, threshold, gallery summary, limits. No server-local path is shown:
 *       the model is named by its file name, and absolute paths in metadata values and texts are reduced to their
 *       file names.</li>
 * </ul>
 *
 * <p>Errors are {@code {"status", "code", "error", "message"}} ({@code error} repeats {@code code}, its original
 * name); the codes are listed in the README. 400 empty or malformed body (also JSON with anything but
 * whitespace after the object), missing part, bad base64 (a character outside the alphabet, other than line
 * breaks and spaces, is an error naming the field) or {@code k}; 404/405 unknown endpoint or no gallery; 413 body above the size limit; 415 unsupported content type;
 * 408 a body not complete within the read timeout
 * ({@code request_timeout}) or arriving below the minimum rate ({@code request_too_slow}); 422 data that is not a
 * decodable image (or is truncated, or exceeds the pixel limit); 429 more requests than
 * {@code maxConcurrency + maxQueue} at once; 503 no inference slot freed up before the deadline, or shutting
 * down; 504 the request ran past its timeout; 500 an inference failure.
 *
 * <p>Limits: a request's body is read in full on the HTTP thread first, within {@code readTimeoutMillis} and at
 * no less than {@code minBodyBytesPerSecond} after a grace period ({@link BodyReader}); reading holds no place
 * in the queue and no inference slot, so slow or stalled uploads cannot lock out other clients. Only then is the
 * validated request admitted: at most {@code maxConcurrency} requests decode and run inference at once (a
 * semaphore; their work runs on a pool of as many threads), at most {@code maxQueue} more wait for a slot, and
 * each request has one deadline, {@code timeoutMillis} after it was admitted, covering its wait and its work. Work that passes
 * its deadline is answered with 504 at once but finishes in the background and keeps its slot until then (ONNX
 * Runtime cannot be interrupted), so the concurrency bound holds under overload.
 *
 * <p>Shutdown ({@link #stop()}): new requests on open connections get 503, the listening socket is closed,
 * in-flight requests finish and their responses are written (up to {@code drainMillis}), Jetty stops, and the embedder is closed (unless
 * {@link Builder#optCloseEmbedderOnStop} was set to false).
 *
 * <p>Inside: {@link Endpoints} (routes, request parsing, JSON answers), {@link Admission} (the admission and
 * inference-slot semaphores, the deadline, the inference pool) and {@link Lifecycle} (bind, graceful stop);
 * this class wires them together and holds the public API.
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
    /** Default deadline for reading a whole request body: 10 s. */
    public static final long DEFAULT_READ_TIMEOUT_MILLIS = 10_000;
    /** Default minimum upload rate of a request body after {@link #BODY_RATE_GRACE_MILLIS}: 1 KiB/s. */
    public static final long DEFAULT_MIN_BODY_BYTES_PER_SECOND = 1024;
    /** Time at the start of a body during which its upload rate is not checked: 2 s. */
    public static final long BODY_RATE_GRACE_MILLIS = 2_000;
    /** Default number of search results. */
    public static final int DEFAULT_K = 5;
    /** Largest accepted {@code k}. */
    public static final int MAX_K = 1000;

    private static final Logger LOG = LoggerFactory.getLogger(FaceServer.class);

    private final FaceEmbedder embedder;
    private final Identifier gallery;
    private final String modelId;
    private final String host;
    private final int maxConcurrency;
    private final int maxQueue;
    private final long timeoutMillis;
    private final Admission admission;
    private final Endpoints endpoints;
    private final Lifecycle lifecycle;

    private FaceServer(Builder b, Verifier verifier, String modelId) {
        this.embedder = b.embedder;
        this.gallery = b.gallery;
        this.modelId = LocalPaths.toFileNames(modelId);
        this.host = b.host;
        this.maxConcurrency = b.maxConcurrency;
        this.maxQueue = b.maxQueue;
        this.timeoutMillis = b.timeoutMillis;
        this.admission = new Admission(b.maxConcurrency, b.maxQueue, b.timeoutMillis, b.beforeWork);
        BodyReader body = new BodyReader(b.maxBodyBytes, b.readTimeoutMillis, b.minBodyBytesPerSecond,
                BODY_RATE_GRACE_MILLIS);
        this.endpoints = new Endpoints(new Endpoints.Config(b.embedder, verifier, b.gallery, this.modelId,
                body, b.maxConcurrency, b.maxQueue, b.timeoutMillis, b.maxPixels), admission);
        boolean closeEmbedder = b.closeEmbedderOnStop;
        this.lifecycle = new Lifecycle(b.host, b.maxBodyBytes, b.drainMillis, b.readTimeoutMillis, admission, () -> {
            if (closeEmbedder) {
                embedder.close();
            }
        });
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
    public FaceServer start(int port) throws SphereKitException {
        lifecycle.start(port, endpoints::install);
        LOG.info("serving {} ({}-d, {}) on http://{}:{}/ with max concurrency {}, queue {}, timeout {} ms{}",
                modelId, embedder.embeddingDim(), embedder.provider(), host, port(), maxConcurrency, maxQueue,
                timeoutMillis, gallery == null ? "" : ", gallery " + gallery);
        return this;
    }

    /** @return the bound port (the real one when started with port 0) */
    public int port() {
        return lifecycle.port();
    }

    /**
     * @return the model id reported in responses: {@link ModelId#of}, with any absolute path in it reduced to its
     *         file name (a {@value ModelId#METADATA_KEY} that names a server-local file)
     */
    public String modelId() {
        return modelId;
    }

    /**
     * Graceful shutdown: stops accepting connections, answers new requests with 503, waits up to
     * {@code drainMillis} for in-flight requests, stops the HTTP server and the inference pool, and closes the
     * embedder (unless disabled). Idempotent; safe to call from a shutdown hook.
     */
    public void stop() {
        lifecycle.stop();
    }

    /** @return requests admitted right now (running or waiting for a slot); for tests and monitoring */
    int admitted() {
        return admission.admitted();
    }

    /** @return answers that told their client "keep-alive" and are not completely written yet; for tests */
    int keepAliveAnswersInFlight() {
        return admission.keepAliveAnswersInFlight();
    }

    /** @return requests dispatched to the endpoints since the start; for tests and monitoring */
    int requestsDispatched() {
        return lifecycle.requestsDispatched();
    }

    /** Blocks until {@link #stop()} has finished. */
    public void awaitStop() throws InterruptedException {
        lifecycle.awaitStop();
    }

    /** Same as {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }

    /**
     * Configures a {@link FaceServer}: {@code set*} is required, {@code opt*} optional. {@link #build()}
     * validates.
     */
    public static final class Builder {
        private FaceEmbedder embedder;
        private Double threshold;
        private Identifier gallery;
        private java.nio.file.Path gallerySource;
        private boolean allowModelMismatch;
        private String host = "127.0.0.1";
        private long maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
        private int maxConcurrency = Runtime.getRuntime().availableProcessors();
        private int maxQueue = DEFAULT_MAX_QUEUE;
        private long timeoutMillis = DEFAULT_TIMEOUT_MILLIS;
        private long maxPixels = DEFAULT_MAX_PIXELS;
        private long drainMillis = DEFAULT_DRAIN_MILLIS;
        private long readTimeoutMillis = DEFAULT_READ_TIMEOUT_MILLIS;
        private long minBodyBytesPerSecond = DEFAULT_MIN_BODY_BYTES_PER_SECOND;
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

        /**
         * @param allow serve a gallery whose recorded model id differs from the embedder's (default false: such a
         *              gallery is refused by {@link #build()}, since its scores and decisions would be meaningless)
         */
        public Builder optAllowModelMismatch(boolean allow) {
            this.allowModelMismatch = allow;
            return this;
        }

        /**
         * @param g gallery for {@code /v1/search}: the exact {@code Gallery} or an {@code HnswGallery} index; default
         *          none (search answers 404)
         */
        public Builder optGallery(Identifier g) {
            this.gallery = g;
            return this;
        }

        /**
         * As {@link #optGallery(Identifier)}, naming the gallery by the file or folder it was opened from in the
         * errors of {@link #build()} (another model, dimension or preprocessing).
         *
         * @param g      the gallery
         * @param source where it was opened from
         */
        public Builder optGallery(Identifier g, java.nio.file.Path source) {
            this.gallery = g;
            this.gallerySource = source;
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

        /**
         * @param ms deadline for reading a whole request body, and the idle timeout of a connection, {@code >= 1};
         *           a body not complete in time gets 408 {@code request_timeout}; default
         *           {@value #DEFAULT_READ_TIMEOUT_MILLIS}
         */
        public Builder optReadTimeoutMillis(long ms) {
            this.readTimeoutMillis = positive("readTimeoutMillis", ms);
            return this;
        }

        /**
         * @param n minimum average upload rate of a request body in bytes per second, checked after the first
         *          {@value #BODY_RATE_GRACE_MILLIS} ms; a slower body gets 408 {@code request_too_slow}; 0 disables
         *          the check; default {@value #DEFAULT_MIN_BODY_BYTES_PER_SECOND}
         */
        public Builder optMinBodyBytesPerSecond(long n) {
            if (n < 0) {
                throw new IllegalArgumentException("minBodyBytesPerSecond must be >= 0, got " + n);
            }
            this.minBodyBytesPerSecond = n;
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
                String name = gallerySource != null ? gallerySource + " (" + gallery + ")" : gallery.toString();
                if (gallery.dim() != embedder.embeddingDim()) {
                    throw new SphereKitException("gallery " + name + " holds " + gallery.dim()
                            + "-d embeddings but model " + id + " produces " + embedder.embeddingDim() + "-d ones"
                            + (gallery.dim() == 2 * embedder.embeddingDim() || embedder.embeddingDim() == 2 * gallery.dim()
                            ? " (one of the two uses test-time flip concat, which doubles the dimension: serve with"
                            + " the flip mode the gallery was built with)" : ""));
                }
                if (!gallery.modelId().isEmpty() && !ModelId.sameModel(gallery.modelId(), id)) {
                    if (!allowModelMismatch) {
                        throw new SphereKitException("gallery " + name + " was built with model "
                                + gallery.modelId() + " but the server runs " + id + ": its embeddings are not"
                                + " comparable (rebuild the gallery with this model, or allow it explicitly)");
                    }
                    LOG.warn("gallery was built with model {} but the server runs {}; scores may be meaningless",
                            gallery.modelId(), id);
                }
                String storedPre = io.spherekit.runtime.Galleries.preprocessingOf(gallery);
                String pre = io.spherekit.runtime.Galleries.preprocessingOf(embedder);
                if (!storedPre.isEmpty() && !io.spherekit.runtime.Galleries.samePreprocessing(storedPre, pre)) {
                    if (!allowModelMismatch) {
                        throw new SphereKitException("gallery " + name + " was built with preprocessing '"
                                + storedPre + "' but the server uses '" + pre + "': its embeddings are not comparable"
                                + " (rebuild the gallery, or allow it explicitly)");
                    }
                    LOG.warn("gallery was built with preprocessing '{}' but the server uses '{}'", storedPre, pre);
                }
            }
            return new FaceServer(this, v, id);
        }
    }
}
