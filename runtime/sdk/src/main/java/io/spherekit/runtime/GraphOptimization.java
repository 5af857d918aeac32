package io.spherekit.runtime;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;

/**
 * ONNX Runtime graph optimisation level of a session ({@link FaceEmbedder.Builder#optGraphOptimization}); the
 * levels of ORT's {@code GraphOptimizationLevel} (onnxruntime.ai/docs/performance/model-optimizations/
 * graph-optimizations.html). ORT's default, and the SDK's, is {@link #ALL}.
 */
public enum GraphOptimization {
    /** No graph optimisation: for a model ORT has already optimised and saved ({@link FaceEmbedder.Builder#optSaveOptimizedModel}). */
    NONE(OptLevel.NO_OPT),
    /** Semantics-preserving rewrites: constant folding, redundant-node elimination, Conv+BatchNorm folding, ... */
    BASIC(OptLevel.BASIC_OPT),
    /** BASIC plus fusions into ORT's own operators (e.g. Conv+activation as FusedConv, GELU, attention). */
    EXTENDED(OptLevel.EXTENDED_OPT),
    /** EXTENDED plus layout rewrites: on CPU, the NCHWc blocked layout with Add fused into Conv. */
    LAYOUT(OptLevel.LAYOUT_OPT),
    /** Every optimisation ORT has (ORT's default). */
    ALL(OptLevel.ALL_OPT);

    private final OptLevel ort;

    GraphOptimization(OptLevel ort) {
        this.ort = ort;
    }

    /** @return ONNX Runtime's level */
    OptLevel ort() {
        return ort;
    }
}
