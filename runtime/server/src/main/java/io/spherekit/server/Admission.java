package io.spherekit.server;

import io.spherekit.core.SphereKitException;
import io.spherekit.runtime.NoFaceException;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admission control of the HTTP service: which requests may run, wait, or are refused, and within which deadline.
 *
 * <ul>
 *   <li>At most {@code maxConcurrency + maxQueue} requests are admitted at once (a semaphore); one more is refused
 *       with 429 {@code too_many_requests}.</li>
 *   <li>At most {@code maxConcurrency} of them run their work at once (a second semaphore, the inference slots);
 *       the work runs on a pool of as many daemon threads ({@code spherekit-infer-N}).</li>
 *   <li>Only a request whose body was read in full and validated gets here: slow uploads hold no place
 *       ({@link BodyReader} bounds them on the HTTP thread).</li>
 *   <li>Each request has one deadline, {@code timeoutMillis} after it was admitted, covering its wait for a slot
 *       (503 {@code busy} when none frees up in time) and its work (504 {@code timeout}). Work that passes its
 *       deadline keeps its slot until it finishes in the background (ONNX Runtime cannot be interrupted), so the
 *       concurrency bound holds under overload.</li>
 *   <li>After {@link #beginStopping()} new requests get 503 {@code shutting_down} with {@code Connection: close}.</li>
 * </ul>
 * Thread-safe.
 */
final class Admission {

    private static final Logger LOG = LoggerFactory.getLogger(FaceServer.class); // the service logs under one name

    private final int maxConcurrency;
    private final int maxQueue;
    private final long timeoutMillis;
    private final Consumer<String> beforeWork;
    private final Semaphore admitted;
    private final Semaphore slots;
    private final ExecutorService workers;
    private final AtomicInteger keepAliveAnswers = new AtomicInteger();
    private volatile boolean stopping;

    /**
     * @param maxConcurrency requests running at once, {@code >= 1}
     * @param maxQueue       requests that may wait for a slot, {@code >= 0}
     * @param timeoutMillis  per-request deadline in milliseconds, {@code >= 1}
     * @param beforeWork     runs on the inference thread before each request's work, with the endpoint name
     */
    Admission(int maxConcurrency, int maxQueue, long timeoutMillis, Consumer<String> beforeWork) {
        this.maxConcurrency = maxConcurrency;
        this.maxQueue = maxQueue;
        this.timeoutMillis = timeoutMillis;
        this.beforeWork = beforeWork;
        this.admitted = new Semaphore(maxConcurrency + maxQueue);
        this.slots = new Semaphore(maxConcurrency);
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(maxConcurrency, maxConcurrency, 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "spherekit-infer-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
    }

    /**
     * Admits one request whose body was read and validated, and runs its work on an inference slot. Reading the
     * body happens before, on the HTTP thread, and holds nothing here (see {@link BodyReader}).
     *
     * @param name endpoint name, passed to the {@code beforeWork} hook
     * @param work the request's work (decoding, inference, answer); may throw {@link ApiError}
     * @return the work's result
     * @throws ApiError 429 not admitted, 503 stopping or no slot in time, 504 past the deadline, or the error of
     *                  the work (see {@link #toApiError})
     */
    <T> T run(String name, Callable<T> work) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        if (stopping) {
            throw shuttingDown("the server is shutting down");
        }
        if (!admitted.tryAcquire()) {
            throw new ApiError(429, "too_many_requests", "too many requests: " + maxConcurrency
                    + " running and " + maxQueue + " waiting; retry later");
        }
        try {
            return runOnSlot(name, work, deadline);
        } finally {
            admitted.release();
        }
    }

    private <T> T runOnSlot(String name, Callable<T> work, long deadline) {
        try {
            if (!slots.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new ApiError(503, "busy", "no inference slot became free within the " + timeoutMillis
                        + " ms timeout (" + maxConcurrency + " running); retry later");
            }
            Future<T> f;
            try {
                f = workers.submit(() -> {
                    try {
                        beforeWork.accept(name);
                        return work.call();
                    } finally {
                        slots.release();
                    }
                });
            } catch (RejectedExecutionException e) {
                slots.release();
                throw shuttingDown("the server is shutting down");
            }
            return f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new ApiError(504, "timeout", "the request did not finish within the " + timeoutMillis
                    + " ms timeout");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw shuttingDown("interrupted while waiting");
        } catch (ExecutionException e) {
            throw toApiError(e.getCause());
        }
    }

    private static ApiError shuttingDown(String message) {
        return new ApiError(503, "shutting_down", message, true);
    }

    /**
     * Maps a failure of a request's work to its answer: an {@link ApiError} as is, an
     * {@link IllegalArgumentException} 422, a {@link NoFaceException} (aligned mode: no usable face in an upload)
     * 422 {@code no_face}, an {@link IllegalStateException} (closed embedder) 503, any other
     * {@link SphereKitException} 500 {@code inference_failed}, anything else 500 {@code internal}.
     */
    static ApiError toApiError(Throwable t) {
        if (t instanceof ApiError a) {
            return a;
        }
        if (t instanceof IllegalArgumentException) {
            return new ApiError(422, "unprocessable", t.getMessage());
        }
        if (t instanceof IllegalStateException) {
            return shuttingDown(t.getMessage());
        }
        if (t instanceof NoFaceException) {
            return new ApiError(422, "no_face", t.getMessage());
        }
        if (t instanceof SphereKitException) {
            LOG.error("inference failed", t);
            return new ApiError(500, "inference_failed", t.getMessage());
        }
        LOG.error("request failed", t);
        return new ApiError(500, "internal", "internal error: " + t);
    }

    /** From now on new requests get 503; requests already admitted go on. Idempotent. */
    void beginStopping() {
        stopping = true;
    }

    /** @return whether {@link #beginStopping()} was called */
    boolean stopping() {
        return stopping;
    }

    /**
     * Decides, just before an answer is handed to Jetty, whether it may keep its connection open: yes unless
     * {@link #beginStopping()} was called. An answer that may is counted until {@link #keepAliveAnswerDone()}
     * (called when Jetty has completed the exchange), so that {@link Lifecycle#stop} can wait until no answer
     * that told its client "keep-alive" is still being written before it shuts Jetty's connectors down (Jetty
     * half-closes a connection after such an answer if the connector was shut down meanwhile, and the client's
     * next request on it is then read, dispatched and answered into a closed socket: a lost answer).
     *
     * <p>The count is raised before the flag is read, and {@link #beginStopping()} sets the flag before
     * {@link #keepAliveAnswersInFlight()} is read (both volatile), so an answer either sees the flag (and closes
     * its connection) or is seen by the count.
     *
     * @return true if the answer may keep its connection open (and was counted), false if it must close it
     */
    boolean beginKeepAliveAnswer() {
        keepAliveAnswers.incrementAndGet();
        if (stopping) {
            keepAliveAnswers.decrementAndGet();
            return false;
        }
        return true;
    }

    /** Ends one answer counted by {@link #beginKeepAliveAnswer()}. */
    void keepAliveAnswerDone() {
        keepAliveAnswers.decrementAndGet();
    }

    /** @return answers counted by {@link #beginKeepAliveAnswer()} whose exchange has not completed yet */
    int keepAliveAnswersInFlight() {
        return keepAliveAnswers.get();
    }

    /**
     * @return why the service cannot take work right now ({@code "stopping"}, or {@code "queue_full"} when every
     *         running and waiting place is taken), or {@code null} when it can
     */
    String notReadyReason() {
        if (stopping) {
            return "stopping";
        }
        return admitted.availablePermits() == 0 ? "queue_full" : null;
    }

    /** @return requests admitted right now (running or waiting for a slot) */
    int admitted() {
        return maxConcurrency + maxQueue - admitted.availablePermits();
    }

    /**
     * Stops the inference pool and waits for running work.
     *
     * @param waitNanos how long to wait for running work, in nanoseconds
     * @return whether all work finished in time
     */
    boolean shutdown(long waitNanos) throws InterruptedException {
        workers.shutdown();
        return workers.awaitTermination(waitNanos, TimeUnit.NANOSECONDS);
    }
}
