package io.spherekit.runtime;

import io.spherekit.core.Preprocessing;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** Public bridge to the package-private {@link TestModels} for tests in other packages. */
public final class TestModelsAccess {

    private TestModelsAccess() {
    }

    /** The standard tiny model with input {@code [batch,3,h,w]} and output {@code [batch,d]}. */
    public static Path standard(Path file, int h, int w, int d, Map<String, String> metadata) throws IOException {
        return TestModels.standard(file, new Object[] {"batch", 3, h, w}, h, w, d, metadata);
    }

    /**
     * The standard tiny model with the given input dims (each a String for a symbolic dim, or a Number), e.g.
     * {@code {1, 3, 112, 112}} for a fixed-batch model.
     */
    public static Path standard(Path file, Object[] inputDims, int h, int w, int d, Map<String, String> metadata)
            throws IOException {
        return TestModels.standard(file, inputDims, h, w, d, metadata);
    }

    /** A position-sensitive model with symbolic batch: {@link TestModels#linear}; returns its path. */
    public static Path linear(Path file, int h, int w, int d, long seed, Map<String, String> metadata)
            throws IOException {
        return TestModels.linear(file, "batch", h, w, d, seed, metadata).path();
    }

    /** Expected embedding of a constant image with normalised channel values r, g, b (in the model's order). */
    public static double[] expected(double r, double g, double b, int d) {
        return TestModels.expected(r, g, b, d);
    }

    /** A textured stand-in for a solid colour: {@link TestModels#textured}. */
    public static BufferedImage textured(int w, int h, Color c) {
        return TestModels.textured(w, h, c);
    }

    /** The standard model's embedding of any image under {@code pre}, by hand: {@link TestModels#expectedOf}. */
    public static double[] expectedOf(Preprocessing pre, BufferedImage img, int d) {
        return TestModels.expectedOf(pre, img, d);
    }

    /** Expected embedding of a solid colour with (p − 127.5)/128 normalisation. */
    public static double[] expected(Color c, int d) {
        return TestModels.expected((c.getRed() - 127.5f) / 128f, (c.getGreen() - 127.5f) / 128f,
                (c.getBlue() - 127.5f) / 128f, d);
    }
}
