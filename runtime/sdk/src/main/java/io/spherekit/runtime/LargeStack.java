package io.spherekit.runtime;

import ai.onnxruntime.OrtEnvironment;
import java.util.concurrent.Callable;

/**
 * Runs a call on a dedicated thread with a large native stack and waits for it.
 *
 * <p>ONNX Runtime's model loading (protobuf parsing and graph resolution) recurses deeply in native code. On a JVM
 * thread with the default 1 MB stack, loading a 24 MB SphereFace model crashed the whole process with SIGSEGV and no
 * {@code hs_err} file when the class path was long (the DL4J exporter's): the overflow happens in native frames,
 * where the JVM cannot turn it into a {@code StackOverflowError}. The first {@code OrtEnvironment.getEnvironment()}
 * (native library load and environment creation) crashed the same way on the main thread. Both therefore always
 * run here.
 */
public final class LargeStack {
    /** 64 MB: reserved address space only; pages are committed as the stack grows. */
    public static final long STACK_BYTES = 64L << 20;

    private LargeStack() {
    }

    /** {@code OrtEnvironment.getEnvironment()}, initialised on a large-stack thread. */
    public static OrtEnvironment environment() {
        try {
            return call("ort-env-init", OrtEnvironment::getEnvironment);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("ONNX Runtime environment failed to start: " + e.getMessage(), e);
        }
    }

    /**
     * @return the call's result
     * @throws Exception the call's own exception, unchanged
     */
    public static <T> T call(String name, Callable<T> c) throws Exception {
        Object[] result = new Object[1];
        Throwable[] error = new Throwable[1];
        Thread t = new Thread(null, () -> {
            try {
                result[0] = c.call();
            } catch (Throwable e) {
                error[0] = e;
            }
        }, name, STACK_BYTES);
        t.setDaemon(true);
        t.start();
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (error[0] instanceof Exception e) {
            throw e;
        }
        if (error[0] instanceof Error e) {
            throw e;
        }
        @SuppressWarnings("unchecked")
        T r = (T) result[0];
        return r;
    }
}
