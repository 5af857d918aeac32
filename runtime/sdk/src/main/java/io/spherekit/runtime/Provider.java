package io.spherekit.runtime;

/** ONNX Runtime execution provider choice for a {@link FaceEmbedder}. */
public enum Provider {
    /** Try CUDA (device 0); if it cannot be loaded, fall back to CPU, log a WARN and record the reason. */
    AUTO,
    /** CUDA device 0 or a {@link SphereKitException}: never falls back. */
    CUDA,
    /** The default CPU provider. */
    CPU
}
