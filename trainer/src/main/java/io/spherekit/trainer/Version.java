package io.spherekit.trainer;

/** The SphereKit version written into model metadata. */
public final class Version {
    public static final String VERSION = "0.1.0";

    private Version() {
    }
}
