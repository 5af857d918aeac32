package io.spherekit.keras;

import io.spherekit.onnx.OnnxValue;

/**
 * A tensor of the model being converted: its ONNX value and its Keras shape without the batch dimension
 * (channels_last, e.g. {@code [H, W, C]}).
 *
 * <p>Layout rule: a tensor of Keras rank 1 ({@code [N, C]}) is stored as is; a tensor of Keras rank r &ge; 2
 * ({@code [N, d1, ..., d(r-1), C]}) is stored channels-first, {@code [N, C, d1, ..., d(r-1)]}, so that an image
 * model's ONNX input and every feature map are NCHW.
 */
record KTensor(OnnxValue value, long[] shape) {
    int rank() {
        return shape.length;
    }

    long channels() {
        return shape[shape.length - 1];
    }

    /** The ONNX dims with {@code batch} first: channels-first for rank &ge; 2. */
    long[] onnxDims(long batch) {
        long[] d = new long[shape.length + 1];
        d[0] = batch;
        if (shape.length == 1) {
            d[1] = shape[0];
        } else {
            d[1] = shape[shape.length - 1];
            for (int i = 0; i < shape.length - 1; i++) {
                d[i + 2] = shape[i];
            }
        }
        return d;
    }

    /** The ONNX axis of Keras axis {@code axis} (negative counts from the end; 0 is the batch). */
    static int onnxAxis(int axis, int rank) {
        int a = axis < 0 ? axis + rank + 1 : axis;
        if (a <= 0 || a > rank) {
            throw new IllegalArgumentException("axis " + axis + " out of range for rank " + rank);
        }
        if (rank == 1) {
            return 1;
        }
        return a == rank ? 1 : a + 1;
    }
}
