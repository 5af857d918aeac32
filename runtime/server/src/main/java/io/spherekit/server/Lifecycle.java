package io.spherekit.server;

import io.javalin.Javalin;
import io.spherekit.core.SphereKitException;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.eclipse.jetty.server.Connector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lifecycle of {@link FaceServer}'s HTTP server: started once, stopped once.
 *
 * <ul>
 *   <li>{@link #start}: probes the port (so that a taken port gives "address already in use" instead of Jetty's
 *       "STOPPED"), creates the Javalin app (body limit, no banner, no server version header, Jetty's stop timeout
 *       = the drain time), lets the caller install the routes, and binds.</li>
 *   <li>{@link #stop}: closes the listening socket while keeping open connections, makes {@link Admission} answer
 *       new requests with 503, waits up to {@code drainMillis} for in-flight requests, stops Jetty and the
 *       inference pool, then runs the {@code onStopped} action (closing the embedder). Idempotent.</li>
 * </ul>
 * Thread-safe.
 */
final class Lifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(FaceServer.class); // the service logs under one name

    private final String host;
    private final long maxBodyBytes;
    private final long drainMillis;
    private final Admission admission;
    private final Runnable onStopped;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private Javalin app;
    private boolean stopCalled;

    /**
     * @param host         address to bind
     * @param maxBodyBytes Javalin's request size limit, in bytes
     * @param drainMillis  how long {@link #stop} waits for in-flight requests, in milliseconds
     * @param admission    the admission control whose in-flight requests are drained
     * @param onStopped    runs at the end of {@link #stop}, even if stopping failed
     */
    Lifecycle(String host, long maxBodyBytes, long drainMillis, Admission admission, Runnable onStopped) {
        this.host = host;
        this.maxBodyBytes = maxBodyBytes;
        this.drainMillis = drainMillis;
        this.admission = admission;
        this.onStopped = onStopped;
    }

    /**
     * Creates the app, lets {@code routes} install its handlers, and starts listening.
     *
     * @param port TCP port in [0, 65535]; 0 for an ephemeral one
     * @throws SphereKitException       if the port cannot be bound (the message names host and port)
     * @throws IllegalStateException    if already started or stopped
     * @throws IllegalArgumentException if the port is out of range
     */
    synchronized void start(int port, Consumer<Javalin> routes) throws SphereKitException {
        if (app != null || stopCalled) {
            throw new IllegalStateException("FaceServer was already " + (stopCalled ? "stopped" : "started"));
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in [0,65535], got " + port);
        }
        if (port != 0) {
            // Jetty/Javalin report a taken port as "IllegalStateException: STOPPED"; probe it first for a clear error
            try (ServerSocket probe = new ServerSocket()) {
                probe.setReuseAddress(true);
                probe.bind(new InetSocketAddress(host, port));
            } catch (IOException e) {
                throw new SphereKitException("cannot listen on " + host + ":" + port + ": " + e.getMessage()
                        + " (is another server using the port?)", e);
            }
        }
        Javalin a = Javalin.create(cfg -> {
            cfg.showJavalinBanner = false;
            cfg.startupWatcherEnabled = false;
            cfg.http.prefer405over404 = true;
            cfg.http.maxRequestSize = maxBodyBytes;
            cfg.jetty.modifyServer(s -> s.setStopTimeout(drainMillis));
            cfg.jetty.modifyHttpConfiguration(h -> h.setSendServerVersion(false));
        });
        routes.accept(a);
        app = a;
        try {
            a.start(host, port);
        } catch (RuntimeException e) {
            app = null;
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof BindException) {
                    throw new SphereKitException("cannot listen on " + host + ":" + port
                            + ": the port is already in use or not permitted (" + t.getMessage() + ")", e);
                }
            }
            throw new SphereKitException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }

    /** @return the bound port (the real one when started with port 0) */
    synchronized int port() {
        if (app == null) {
            throw new IllegalStateException("FaceServer is not started");
        }
        return app.port();
    }

    /** Graceful shutdown, see the class comment. Idempotent; safe to call from a shutdown hook. */
    void stop() {
        Javalin a;
        synchronized (this) {
            if (stopCalled) {
                return;
            }
            stopCalled = true;
            a = app;
        }
        admission.beginStopping();
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainMillis);
        try {
            if (a != null) {
                for (Connector c : a.jettyServer().server().getConnectors()) {
                    c.shutdown(); // Graceful: closes the listening socket, keeps open connections
                }
                while (admission.inFlight() > 0 && System.nanoTime() < end) {
                    Thread.sleep(5);
                }
                if (admission.inFlight() > 0) {
                    LOG.warn("stopping with {} requests still in flight after {} ms", admission.inFlight(),
                            drainMillis);
                }
                a.stop();
            }
            long left = end - System.nanoTime();
            if (!admission.shutdown(Math.max(left, TimeUnit.SECONDS.toNanos(1)))) {
                LOG.warn("inference still running at shutdown");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            onStopped.run();
            stopped.countDown();
            LOG.info("stopped");
        }
    }

    /** Blocks until {@link #stop()} has finished. */
    void awaitStop() throws InterruptedException {
        stopped.await();
    }
}
