package io.spherekit.runtime;

import io.spherekit.core.SphereKitException;

/** ONNX Runtime execution provider choice for a {@link FaceEmbedder}. */
public enum Provider {
    /**
     * CUDA (device 0) when the ONNX Runtime build has the CUDA provider, else CPU. On a CPU build (the default
     * {@code onnxruntime} jar) CUDA is not attempted: the embedder runs on CPU and logs so at INFO. On a GPU build
     * whose CUDA libraries fail to load it falls back to CPU, logs a WARN and records the load error in
     * {@link FaceEmbedder#providerReason()}.
     */
    AUTO,
    /** CUDA device 0 or a {@link SphereKitException} (also on a CPU-only build): never falls back. */
    CUDA,
    /** The default CPU provider. */
    CPU
}
