package io.spherekit.runtime;

import ai.onnxruntime.OrtEnvironment;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs a call on one long-lived thread with a large native stack and waits for it.
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
    /** Name of the one large-stack thread. */
    public static final String THREAD_NAME = "spherekit-large-stack";

    private static final ExecutorService EXECUTOR = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(null, r, THREAD_NAME, STACK_BYTES);
        t.setDaemon(true);
        return t;
    });

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
     * Runs {@code c} on the one long-lived large-stack thread ({@value #THREAD_NAME}, a daemon) and waits for it.
     * Calls from several threads run one at a time, in order. A call made from that thread itself (a nested call)
     * runs directly.
     *
     * <p>One thread for every load, instead of a new thread per load: each new native thread got its own glibc
     * malloc arena, which ONNX Runtime's session creation filled and the arena kept after the thread ended; building
     * and closing an embedder 200 times grew RSS to 0.8-1.4 GB that way (bench/results/*-reliability).
     *
     * @param name what runs, for diagnostics: the thread carries it in its name during the call
     * @return the call's result
     * @throws Exception the call's own exception, unchanged
     */
    public static <T> T call(String name, Callable<T> c) throws Exception {
        if (Thread.currentThread().getName().startsWith(THREAD_NAME)) {
            return c.call();
        }
        Future<T> f = EXECUTOR.submit(() -> {
            Thread t = Thread.currentThread();
            t.setName(THREAD_NAME + " (" + name + ")");
            try {
                return c.call();
            } finally {
                t.setName(THREAD_NAME);
            }
        });
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return f.get();
                } catch (InterruptedException e) {
                    interrupted = true; // the native call cannot be interrupted: wait for it as before
                }
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            if (e.getCause() instanceof Error x) {
                throw x;
            }
            throw e;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
