package io.spherekit.exporter;

/** The network cannot be exported as asked: an unsupported layer, a bad weight, an unexpected graph shape. */
public class ExportException extends RuntimeException {
    public ExportException(String message) {
        super(message);
    }

    public ExportException(String message, Throwable cause) {
        super(message, cause);
    }
}
