package io.spherekit.keras;

/** A Keras model that cannot be read or converted; the message names the file or layer and the problem. */
public final class KerasException extends RuntimeException {
    public KerasException(String message) {
        super(message);
    }

    public KerasException(String message, Throwable cause) {
        super(message, cause);
    }
}
