package io.spherekit.server;

/**
 * A request that ends with an HTTP error, written as {@code {"status": S, "error": CODE, "message": TEXT}}.
 * Thrown inside request handling and turned into the response by {@link Endpoints}.
 */
final class ApiError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;
    final String code;
    final boolean closeConnection;

    /**
     * @param status  HTTP status, 4xx or 5xx
     * @param code    short machine-readable error code, e.g. {@code "payload_too_large"}
     * @param message what was wrong and, where useful, what to send instead
     */
    ApiError(int status, String code, String message) {
        this(status, code, message, false);
    }

    ApiError(int status, String code, String message, boolean closeConnection) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.closeConnection = closeConnection;
    }

    static ApiError badRequest(String message) {
        return new ApiError(400, "bad_request", message);
    }
}
