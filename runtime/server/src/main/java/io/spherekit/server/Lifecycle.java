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
import org.eclipse.jetty.server.HttpChannel;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.StatisticsHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lifecycle of {@link FaceServer}'s HTTP server: started once, stopped once.
 *
 * <ul>
 *   <li>{@link #start}: probes the port (so that a taken port gives "address already in use" instead of Jetty's
 *       "STOPPED"), creates the Javalin app (body limit, no banner, no server version header, Jetty's stop timeout
 *       = the drain time), lets the caller install the routes, and binds.</li>
 *   <li>{@link #stop}: makes {@link Admission} answer new requests with 503 (every answer from then on says
 *       {@code Connection: close}), waits until the answers that had said keep-alive are completely written (see
 *       {@link Admission#beginKeepAliveAnswer()}: shutting Jetty's connector down under such an answer loses the
 *       answer to the client's next request on that connection), closes the listening socket while
 *       keeping open connections, waits up to {@code drainMillis} until every request has its response written
 *       (counted by a Jetty {@link StatisticsHandler} around the app, so a computed but unsent answer still
 *       counts), stops Jetty and the inference pool, then runs the {@code onStopped} action (closing the
 *       embedder). Idempotent.</li>
 *   <li>Errors that Jetty answers itself (a malformed request line, headers too large, ...) are JSON too
 *       ({@link JsonErrorHandler}).</li>
 * </ul>
 * Thread-safe.
 */
final class Lifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(FaceServer.class); // the service logs under one name

    /** How long no request may be active before {@link #stop} considers the service drained. */
    static final long QUIET_MILLIS = 100;

    private final String host;
    private final long maxBodyBytes;
    private final long drainMillis;
    private final long idleTimeoutMillis;
    private final Admission admission;
    private final StatisticsHandler requests = new StatisticsHandler();
    private final Runnable onStopped;
    /** Ends the count of {@link Admission#beginKeepAliveAnswer()} when Jetty has completed such an exchange. */
    private final HttpChannel.Listener keepAliveAnswers = new HttpChannel.Listener() {
        @Override
        public void onComplete(Request request) {
            if (request.getAttribute(Endpoints.KEEP_ALIVE_COUNTED) != null) {
                request.removeAttribute(Endpoints.KEEP_ALIVE_COUNTED);
                admission.keepAliveAnswerDone();
            }
        }
    };
    private final CountDownLatch stopped = new CountDownLatch(1);
    private Javalin app;
    private boolean stopCalled;

    /**
     * @param host         address to bind
     * @param maxBodyBytes Javalin's request size limit, in bytes
     * @param drainMillis  how long {@link #stop} waits for in-flight requests, in milliseconds
     * @param idleTimeoutMillis the connector's idle timeout (a connection that sends nothing for that long, e.g.
     *                     one stalled inside its headers, is closed), in milliseconds
     * @param admission    the admission control that is told to refuse new work on {@link #stop}
     * @param onStopped    runs at the end of {@link #stop}, even if stopping failed
     */
    Lifecycle(String host, long maxBodyBytes, long drainMillis, long idleTimeoutMillis, Admission admission,
              Runnable onStopped) {
        this.host = host;
        this.maxBodyBytes = maxBodyBytes;
        this.drainMillis = drainMillis;
        this.idleTimeoutMillis = idleTimeoutMillis;
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
            cfg.jetty.modifyServer(s -> {
                s.setStopTimeout(drainMillis);
                // Counts requests until their response is complete; Javalin's handlers are attached inside it
                s.setHandler(requests);
                s.setErrorHandler(new JsonErrorHandler());
            });
            cfg.jetty.addConnector((server, http) -> {
                // Javalin's default connector, plus the listener that ends the keep-alive answer count on every
                // connection's channel (a connector bean, so it is there before the first connection)
                ServerConnector c = new ServerConnector(server, new HttpConnectionFactory(http));
                c.setHost(host);
                c.setPort(port);
                c.setIdleTimeout(idleTimeoutMillis);
                c.addBean(keepAliveAnswers);
                return c;
            });
            cfg.jetty.modifyHttpConfiguration(h -> h.setSendServerVersion(false));
        });
        routes.accept(a);
        app = a;
        try {
            a.start(); // on the connector above (host, port)
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
                // From here on every answer says "Connection: close". Before Jetty's connectors are shut down, the
                // answers that told their client "keep-alive" must be completely written: once a connector is shut
                // down, Jetty half-closes each connection after the answer it is writing, yet still reads and
                // dispatches the next request the client sends on it, whose answer then goes into a closed socket.
                while (admission.keepAliveAnswersInFlight() > 0 && System.nanoTime() < end) {
                    Thread.sleep(1);
                }
                if (admission.keepAliveAnswersInFlight() > 0) {
                    LOG.warn("{} keep-alive answers still being written after {} ms",
                            admission.keepAliveAnswersInFlight(), drainMillis);
                }
                for (Connector c : a.jettyServer().server().getConnectors()) {
                    c.shutdown(); // Graceful: closes the listening socket, keeps open connections
                }
                // Requests count until their response is complete (written), not merely computed. Every answer
                // now closes its connection; wait until none has been active for a quiet period, so that a request
                // already sent on a kept-alive connection when stopping began is dispatched and answered too.
                // (Closing idle connections here was tried: it raced with a request being dispatched on them.)
                long quietSince = System.nanoTime();
                int seen = requests.getRequests();
                while (System.nanoTime() < end) {
                    int dispatched = requests.getRequests(); // a short request can start and end between polls
                    if (requests.getRequestsActive() > 0 || dispatched != seen) {
                        seen = dispatched;
                        quietSince = System.nanoTime();
                    } else if (System.nanoTime() - quietSince >= TimeUnit.MILLISECONDS.toNanos(QUIET_MILLIS)) {
                        break;
                    }
                    Thread.sleep(2);
                }
                if (requests.getRequestsActive() > 0) {
                    LOG.warn("stopping with {} requests still in flight after {} ms", requests.getRequestsActive(),
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

    /** @return requests Jetty has dispatched to the app since the start, answered or not */
    int requestsDispatched() {
        return requests.getRequests();
    }

    /** Blocks until {@link #stop()} has finished. */
    void awaitStop() throws InterruptedException {
        stopped.await();
    }
}
