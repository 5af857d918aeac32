package io.spherekit.server;

import jakarta.servlet.http.HttpServletRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.server.HttpChannel;
import org.eclipse.jetty.server.Request;

/**
 * Reads a request body on the HTTP thread, before the request competes for an inference slot, within three bounds:
 * <ul>
 *   <li>size: at most {@code maxBytes} (else 413 {@code payload_too_large});</li>
 *   <li>deadline: the whole body within {@code readTimeoutMillis} of the handler starting to read it (else 408
 *       {@code request_timeout});</li>
 *   <li>rate: after a grace period of {@code graceMillis}, the bytes received so far must be at least
 *       {@code minBytesPerSecond} × (time since the read started − grace) (else 408 {@code request_too_slow}). A
 *       client that sends one byte every 5 s, or stalls after its headers, is cut off about {@code graceMillis}
 *       after it started, instead of holding anything for the whole deadline.</li>
 * </ul>
 * The bounds are enforced by setting the connection's idle timeout, before each blocking read, to the time left
 * until the next bound would be broken; Jetty then fails the read and the answer is still written, with
 * {@code Connection: close}. The connection's own idle timeout is restored afterwards.
 *
 * @param maxBytes          body size limit in bytes, {@code >= 1}
 * @param readTimeoutMillis deadline for the whole body in milliseconds, {@code >= 1}
 * @param minBytesPerSecond minimum average upload rate in bytes per second after the grace period; 0 disables it
 * @param graceMillis       time at the start of the body during which the rate is not checked, in milliseconds
 */
record BodyReader(long maxBytes, long readTimeoutMillis, long minBytesPerSecond, long graceMillis) {

    /**
     * Reads the body.
     *
     * @return the body bytes (possibly empty)
     * @throws ApiError 413 too large, 408 {@code request_timeout} past the deadline, 408 {@code request_too_slow}
     *                  below the minimum rate, 400 the connection failed while reading
     */
    byte[] read(HttpServletRequest req) {
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(readTimeoutMillis);
        HttpChannel channel = channelOf(req);
        long idleBefore = channel == null ? 0 : channel.getIdleTimeout();
        if (channel != null) {
            channel.setIdleTimeout(Math.max(1, readTimeoutMillis));
        }
        long declared = req.getContentLengthLong();
        if (declared > maxBytes) {
            try {
                if (!"100-continue".equalsIgnoreCase(req.getHeader("Expect")) && declared <= maxBytes * 4) {
                    drain(req, declared, deadline);
                }
            } finally {
                restore(channel, idleBefore);
            }
            throw tooLarge("declares " + declared + " bytes");
        }
        long total = 0;
        ByteArrayOutputStream out = new ByteArrayOutputStream(declared > 0 ? (int) declared : 8192);
        byte[] buf = new byte[64 * 1024];
        try {
            InputStream in = req.getInputStream();
            while (true) {
                long waitNanos = allowedWaitNanos(start, total, System.nanoTime());
                if (waitNanos <= 0) {
                    throw tooSlowOrLate(start, total);
                }
                if (channel != null) {
                    channel.setIdleTimeout(Math.max(1, TimeUnit.NANOSECONDS.toMillis(waitNanos)));
                }
                int n;
                try {
                    n = in.read(buf);
                } catch (IOException e) {
                    if (isTimeout(e)) {
                        throw tooSlowOrLate(start, total);
                    }
                    throw new ApiError(400, "bad_request", "cannot read the request body: " + e.getMessage(), true);
                }
                if (n < 0) {
                    break;
                }
                total += n;
                if (total > maxBytes) {
                    drain(req, maxBytes * 4 - total, deadline);
                    throw tooLarge("is larger");
                }
                out.write(buf, 0, n);
            }
        } catch (IOException e) {
            throw new ApiError(400, "bad_request", "cannot read the request body: " + e.getMessage(), true);
        } finally {
            restore(channel, idleBefore);
        }
        return out.toByteArray();
    }

    private static void restore(HttpChannel channel, long idleBefore) {
        if (channel != null && idleBefore > 0) {
            channel.setIdleTimeout(idleBefore);
        }
    }

    /**
     * @return how long the next read may wait, in nanoseconds, before the deadline or the rate bound is broken
     *         with {@code received} bytes so far; {@code <= 0} when one is broken already
     */
    long allowedWaitNanos(long startNanos, long received, long nowNanos) {
        return Math.min(deadlineNanos(startNanos), rateBoundNanos(startNanos, received)) - nowNanos;
    }

    private long deadlineNanos(long startNanos) {
        return startNanos + TimeUnit.MILLISECONDS.toNanos(readTimeoutMillis);
    }

    /** received >= rate * (t - grace) holds until t = grace + received / rate; no bound when the rate is 0. */
    private long rateBoundNanos(long startNanos, long received) {
        if (minBytesPerSecond <= 0) {
            return Long.MAX_VALUE;
        }
        return startNanos + TimeUnit.MILLISECONDS.toNanos(graceMillis) + (long) (received * 1e9 / minBytesPerSecond);
    }

    /** The 408 of the bound that ended the read: the deadline, or the rate bound if that came first. */
    private ApiError tooSlowOrLate(long start, long total) {
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        if (deadlineNanos(start) <= rateBoundNanos(start, total)) {
            return new ApiError(408, "request_timeout", "the request body was not complete within the "
                    + readTimeoutMillis + " ms read timeout (" + total + " bytes received)", true);
        }
        return new ApiError(408, "request_too_slow", String.format(Locale.ROOT, "the request body arrives too"
                + " slowly: %d bytes in %d ms, below the minimum of %d bytes/s after a %d ms grace period", total, ms,
                minBytesPerSecond, graceMillis), true);
    }

    private ApiError tooLarge(String what) {
        return new ApiError(413, "payload_too_large", "request body " + what + "; the limit is " + maxBytes
                + " bytes", true);
    }

    private static boolean isTimeout(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof TimeoutException
                    || String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT).contains("timeout")) {
                return true;
            }
        }
        return false;
    }

    private static HttpChannel channelOf(HttpServletRequest req) {
        Request base = Request.getBaseRequest(req);
        return base == null ? null : base.getHttpChannel();
    }

    /**
     * Discards up to {@code limit} more bytes of the body until {@code deadlineNanos}, ignoring errors, so that the
     * client can read the 413 instead of seeing its upload reset.
     */
    private static void drain(HttpServletRequest req, long limit, long deadlineNanos) {
        byte[] buf = new byte[64 * 1024];
        try {
            InputStream in = req.getInputStream();
            for (long left = limit; left > 0 && System.nanoTime() < deadlineNanos; ) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    return;
                }
                left -= n;
            }
        } catch (IOException | RuntimeException e) {
            // the connection is closed after the 413 anyway
        }
    }
}
