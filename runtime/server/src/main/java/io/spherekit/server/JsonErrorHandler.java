package io.spherekit.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.handler.ErrorHandler;

/**
 * Jetty's own error answers (requests that never reach the app: a malformed request line, headers too large, a
 * URI too long, a request refused while Jetty shuts down) as the service's JSON error body
 * {@code {"status", "code", "error", "message"}} instead of Jetty's HTML page. See {@link #codeFor} for the codes.
 */
final class JsonErrorHandler extends ErrorHandler {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * @return the stable error code of a status Jetty answers itself: 400 {@code bad_request}, 408
     *         {@code request_timeout}, 413 {@code payload_too_large}, 414 {@code uri_too_long}, 431
     *         {@code headers_too_large}, 503 {@code shutting_down}, anything else {@code http_error}
     */
    static String codeFor(int status) {
        return switch (status) {
            case 400 -> "bad_request";
            case 408 -> "request_timeout";
            case 413 -> "payload_too_large";
            case 414 -> "uri_too_long";
            case 431 -> "headers_too_large";
            case 503 -> "shutting_down";
            default -> "http_error";
        };
    }

    static byte[] body(int status, String message) {
        ObjectNode j = JSON.createObjectNode();
        j.put("status", status);
        j.put("code", codeFor(status));
        j.put("error", codeFor(status));
        j.put("message", message == null || message.isBlank() ? HttpStatus.getMessage(status) : message);
        try {
            return JSON.writeValueAsBytes(j);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise an error", e);
        }
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(HttpHeader.CONTENT_TYPE, "application/json");
        return ByteBuffer.wrap(body(status, reason));
    }

    @Override
    protected void generateAcceptableResponse(Request baseRequest, HttpServletRequest request,
                                              HttpServletResponse response, int code, String message)
            throws IOException {
        baseRequest.setHandled(true);
        response.setContentType("application/json");
        byte[] b = body(code, message);
        response.setContentLength(b.length);
        response.getOutputStream().write(b);
    }
}
