package io.spherekit.spark;

import io.spherekit.core.SphereKitException;
import io.spherekit.runtime.FaceEmbedder;
import java.util.HashMap;
import java.util.Map;

/**
 * One ONNX Runtime session per executor JVM and model: the first task that needs an {@link EmbedderSpec} opens it,
 * every later task of the JVM (any thread) shares it ({@link FaceEmbedder} is thread-safe). Keyed by the whole
 * spec (compared by value), which holds the model path and its SHA-256, the model card and the flip mode. The
 * sessions are closed when the JVM shuts down.
 */
public final class EmbedderHolder {

    private static final Map<EmbedderSpec, FaceEmbedder> OPEN = new HashMap<>();
    private static int opened;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(EmbedderHolder::closeAll, "spherekit-embedder-close"));
    }

    private EmbedderHolder() {
    }

    /**
     * @return the JVM's embedder for {@code spec}, opening it on first use
     * @throws SphereKitException as {@link EmbedderSpec#open()}; a failed open is retried by the next caller
     */
    public static synchronized FaceEmbedder get(EmbedderSpec spec) throws SphereKitException {
        FaceEmbedder e = OPEN.get(spec);
        if (e == null) {
            e = spec.open();
            OPEN.put(spec, e);
            opened++;
        }
        return e;
    }

    /** @return how many sessions this JVM has opened so far (one per distinct spec unless {@link #closeAll}) */
    public static synchronized int openedCount() {
        return opened;
    }

    /** Closes every embedder this JVM holds (the shutdown hook; tests). */
    public static synchronized void closeAll() {
        OPEN.values().forEach(FaceEmbedder::close);
        OPEN.clear();
    }
}
