package io.spherekit.trainer.keras;

/** A {@code .keras} file that {@link KerasImporter} cannot read or cannot map onto the SphereFace DL4J layers. */
public class KerasImportException extends RuntimeException {

    public KerasImportException(String message) {
        super(message);
    }

    public KerasImportException(String message, Throwable cause) {
        super(message, cause);
    }
}
