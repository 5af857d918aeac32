package io.spherekit.core;

/**
 * The one checked exception of the SphereKit runtime: a model cannot be loaded, the inference engine failed,
 * or a requested execution provider is unavailable. Engine exceptions (ONNX Runtime's {@code OrtException})
 * are kept as the {@linkplain #getCause() cause} and never leak to callers.
 */
public class SphereKitException extends Exception {
    private static final long serialVersionUID = 1L;

    /** @param message what failed and, where known, why and what to do */
    public SphereKitException(String message) {
        super(message);
    }

    /**
     * @param message what failed and, where known, why
     * @param cause   the engine or IO exception behind it
     */
    public SphereKitException(String message, Throwable cause) {
        super(message, cause);
    }
}
