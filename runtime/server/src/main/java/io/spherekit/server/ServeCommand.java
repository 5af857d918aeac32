package io.spherekit.server;

import io.spherekit.core.cli.Cli;
import io.spherekit.runtime.cli.ModelOptions;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.Galleries;
import io.spherekit.runtime.Verifier;
import io.spherekit.server.FaceServer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code spherekit serve --model m.onnx [--port 8080] ...}: the HTTP service, until SIGINT/SIGTERM. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve POST /v1/verify, /v1/embed, /v1/search, /v1/inspect and GET /v1/model, /healthz, /readyz"
                + " and a page for people at / over HTTP until interrupted; shuts down gracefully (finishes in-flight"
                + " requests) on SIGINT/SIGTERM.")
final class ServeCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--port", defaultValue = "8080", paramLabel = "PORT",
            description = "TCP port, 0 for an ephemeral one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "ADDR",
            description = "Address to bind (default: ${DEFAULT-VALUE}; 0.0.0.0 for all interfaces).")
    String host;

    @Option(names = "--threshold", paramLabel = "T",
            description = "Cosine threshold in [-1,1]; default: the model's metadata spherekit.threshold.")
    Double threshold;

    @Option(names = "--gallery", paramLabel = "G", description = "Gallery for POST /v1/search: an exact gallery"
            + " file or an HNSW index folder (gallery build --index hnsw).")
    Path galleryFile;

    @Option(names = "--allow-model-mismatch", description = "Serve a --gallery built with another model (refused by"
            + " default: its scores and 'same' decisions would be meaningless).")
    boolean allowModelMismatch;

    @Option(names = "--gallery-search-threads", defaultValue = "1", paramLabel = "N",
            description = "HNSW --gallery: threads per /v1/search query, one index segment each (default:"
                    + " ${DEFAULT-VALUE}; build the index with 'gallery build --segments N').")
    int gallerySearchThreads;

    @Option(names = "--max-concurrency", paramLabel = "N",
            description = "Requests decoded and embedded at once (default: the number of processors).")
    Integer maxConcurrency;

    @Option(names = "--max-queue", defaultValue = "" + FaceServer.DEFAULT_MAX_QUEUE, paramLabel = "N",
            description = "Requests that may wait for a slot; more get 429 (default: ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--timeout-ms", defaultValue = "" + FaceServer.DEFAULT_TIMEOUT_MILLIS, paramLabel = "MS",
            description = "Per-request deadline; 503 if no slot frees up in time, 504 if the work runs past it"
                    + " (default: ${DEFAULT-VALUE}).")
    long timeoutMs;

    @Option(names = "--read-timeout-ms", defaultValue = "" + FaceServer.DEFAULT_READ_TIMEOUT_MILLIS,
            paramLabel = "MS", description = "Deadline for reading a whole request body (and the connection idle"
                    + " timeout); later bodies get 408 (default: ${DEFAULT-VALUE}).")
    long readTimeoutMs;

    @Option(names = "--min-body-rate", defaultValue = "" + FaceServer.DEFAULT_MIN_BODY_BYTES_PER_SECOND,
            paramLabel = "BYTES_PER_S", description = "Minimum upload rate of a request body after the first "
                    + FaceServer.BODY_RATE_GRACE_MILLIS + " ms; slower bodies get 408; 0 disables the check"
                    + " (default: ${DEFAULT-VALUE}).")
    long minBodyRate;

    @Option(names = "--max-body-bytes", defaultValue = "" + FaceServer.DEFAULT_MAX_BODY_BYTES, paramLabel = "N",
            description = "Request body limit; larger bodies get 413 (default: ${DEFAULT-VALUE}).")
    long maxBodyBytes;

    @Option(names = "--max-pixels", defaultValue = "" + FaceServer.DEFAULT_MAX_PIXELS, paramLabel = "N",
            description = "Largest accepted image, width*height; larger ones get 422 (default: ${DEFAULT-VALUE}).")
    long maxPixels;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (threshold != null && !(threshold >= -1 && threshold <= 1)) {
            throw new CommandLine.ParameterException(cl, "--threshold must be a cosine in [-1,1], got " + threshold);
        }
        if (port < 0 || port > 65535) {
            throw new CommandLine.ParameterException(cl, "--port must be in [0,65535], got " + port);
        }
        if (maxConcurrency != null && maxConcurrency < 1) {
            throw new CommandLine.ParameterException(cl, "--max-concurrency must be >= 1, got " + maxConcurrency);
        }
        if (maxQueue < 0) {
            throw new CommandLine.ParameterException(cl, "--max-queue must be >= 0, got " + maxQueue);
        }
        if (timeoutMs < 1 || maxBodyBytes < 1 || maxPixels < 1 || readTimeoutMs < 1) {
            throw new CommandLine.ParameterException(cl, "--timeout-ms, --read-timeout-ms, --max-body-bytes and"
                    + " --max-pixels must be >= 1");
        }
        if (gallerySearchThreads < 1) {
            throw new CommandLine.ParameterException(cl, "--gallery-search-threads must be >= 1, got "
                    + gallerySearchThreads);
        }
        if (minBodyRate < 0) {
            throw new CommandLine.ParameterException(cl, "--min-body-rate must be >= 0, got " + minBodyRate);
        }
        FaceEmbedder embedder = modelOptions.open();
        FaceServer server;
        try {
            if (threshold == null && !embedder.metadata().containsKey(Verifier.THRESHOLD_KEY)) {
                throw new CommandLine.ParameterException(cl, "model " + modelOptions.model() + " has no metadata "
                        + Verifier.THRESHOLD_KEY + "; pass --threshold");
            }
            FaceServer.Builder b = FaceServer.builder().setEmbedder(embedder).optHost(host).optMaxQueue(maxQueue)
                    .optTimeoutMillis(timeoutMs).optMaxBodyBytes(maxBodyBytes).optMaxPixels(maxPixels)
                    .optReadTimeoutMillis(readTimeoutMs).optMinBodyBytesPerSecond(minBodyRate);
            if (threshold != null) {
                b.optThreshold(threshold);
            }
            if (maxConcurrency != null) {
                b.optMaxConcurrency(maxConcurrency);
            }
            if (galleryFile != null) {
                b.optGallery(Galleries.open(galleryFile, embedder.embeddingDim(), gallerySearchThreads), galleryFile)
                        .optAllowModelMismatch(allowModelMismatch);
            }
            server = b.build().start(port);
        } catch (Exception | Error e) {
            embedder.close();
            throw e;
        }
        Thread hook = new Thread(server::stop, "spherekit-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        cl.getOut().printf("listening on http://%s:%d/ (model %s, provider %s)%n", host, server.port(),
                server.modelId(), embedder.provider());
        cl.getOut().flush();
        server.awaitStop();
        return Cli.OK;
    }
}
