package io.spherekit.core.align;

import io.spherekit.core.ModelMetadata;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Where a face model expects four face points in its input image: the eye on the image's left, the eye on the
 * image's right, the nose tip and the mouth centre, in pixels of a {@code width × height} input.
 *
 * <p>Coordinates are continuous image coordinates: the origin is the top-left <em>corner</em> of the image and
 * pixel {@code (i, j)} covers {@code [i, i+1) × [j, j+1)}, so its centre is {@code (i + 0.5, j + 0.5)}. The
 * published templates below are given in OpenCV/MATLAB pixel-index coordinates (pixel centres at integers); they
 * are converted by adding 0.5.
 *
 * <ul>
 *   <li>{@link #SPHEREFACE}: 112×96 (height × width), the five points of wy1iu/sphereface's alignment
 *       ({@code preprocess/code/face_align_demo.m}: (30.2946, 51.6963), (65.5318, 51.5014), (48.0252, 71.7366),
 *       (33.5493, 92.3655), (62.7299, 92.2041): eyes, nose, mouth corners); the mouth centre is the mean of the
 *       two mouth corners.</li>
 *   <li>{@link #ARCFACE}: 112×112, the same points with {@code x + 8} (insightface's {@code arcface_dst}).</li>
 * </ul>
 *
 * @param name   short name, recorded in model metadata ({@code sphereface-112x96}, {@code arcface-112x112}, or any)
 * @param height input height in pixels
 * @param width  input width in pixels
 * @param points {@code [4][2]}: left-in-image eye, right-in-image eye, nose tip, mouth centre
 */
public record AlignmentTemplate(String name, int height, int width, double[][] points)
        implements java.io.Serializable {

    /** Number of points a template holds. */
    public static final int POINTS = 4;

    /** The published SphereFace five points (pixel-index coordinates, 112×96). */
    private static final double[][] SPHEREFACE_FIVE = {
        {30.2946, 51.6963}, {65.5318, 51.5014}, {48.0252, 71.7366}, {33.5493, 92.3655}, {62.7299, 92.2041}};

    /** SphereFace 112×96: eyes, nose and mouth centre of wy1iu/sphereface's five points. */
    public static final AlignmentTemplate SPHEREFACE = fromFivePoints("sphereface-112x96", 112, 96, SPHEREFACE_FIVE, 0);

    /** ArcFace 112×112: the SphereFace points shifted by {@code x + 8}. */
    public static final AlignmentTemplate ARCFACE = fromFivePoints("arcface-112x112", 112, 112, SPHEREFACE_FIVE, 8);

    public AlignmentTemplate {
        Objects.requireNonNull(name, "name");
        if (height < 1 || width < 1 || height > 4096 || width > 4096) {
            throw new IllegalArgumentException("template size must be in [1,4096], got " + height + "x" + width);
        }
        if (points.length != POINTS) {
            throw new IllegalArgumentException("template needs " + POINTS + " points, got " + points.length);
        }
        double[][] copy = new double[POINTS][];
        for (int i = 0; i < POINTS; i++) {
            if (points[i].length != 2 || !Double.isFinite(points[i][0]) || !Double.isFinite(points[i][1])) {
                throw new IllegalArgumentException("template point " + i + " must be a finite (x, y) pair");
            }
            copy[i] = points[i].clone();
        }
        points = copy;
    }

    /**
     * A template from five published pixel-index points (eyes, nose, two mouth corners), shifted by
     * {@code dx} in x, converted to continuous coordinates (+0.5) with the mouth centre as the corners' mean.
     */
    public static AlignmentTemplate fromFivePoints(String name, int height, int width, double[][] five, double dx) {
        if (five.length != 5) {
            throw new IllegalArgumentException("need 5 points (eyes, nose, mouth corners), got " + five.length);
        }
        double[][] p = new double[POINTS][];
        for (int i = 0; i < 3; i++) {
            p[i] = new double[] {five[i][0] + dx + 0.5, five[i][1] + 0.5};
        }
        p[3] = new double[] {(five[3][0] + five[4][0]) / 2 + dx + 0.5, (five[3][1] + five[4][1]) / 2 + 0.5};
        return new AlignmentTemplate(name, height, width, p);
    }

    /**
     * The built-in template for a model input size: 112×96 → {@link #SPHEREFACE}, 112×112 → {@link #ARCFACE}.
     *
     * @return the template, or {@code null} for other sizes
     */
    public static AlignmentTemplate forInputSize(int height, int width) {
        if (height == 112 && width == 96) {
            return SPHEREFACE;
        }
        if (height == 112 && width == 112) {
            return ARCFACE;
        }
        return null;
    }

    /**
     * A built-in template by its {@link #name()}.
     *
     * @throws IllegalArgumentException naming the known templates, for any other name
     */
    public static AlignmentTemplate named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "sphereface-112x96", "sphereface" -> SPHEREFACE;
            case "arcface-112x112", "arcface" -> ARCFACE;
            default -> throw new IllegalArgumentException("unknown alignment template '" + name
                    + "'; known: sphereface-112x96, arcface-112x112");
        };
    }

    /**
     * The template a model's metadata names under {@code spherekit.input.align.template}.
     *
     * @return the template, or {@code null} when the key is absent
     * @throws IllegalArgumentException when the name is not a known template
     */
    public static AlignmentTemplate fromMetadata(Map<String, String> metadata) {
        String name = metadata.get(ModelMetadata.Key.INPUT_ALIGN_TEMPLATE.key());
        return name == null ? null : named(name.strip());
    }

    /** @return a copy of point {@code i} as {@code {x, y}} */
    public double[] point(int i) {
        return points[i].clone();
    }

    @Override
    public double[][] points() {
        double[][] copy = new double[POINTS][];
        for (int i = 0; i < POINTS; i++) {
            copy[i] = points[i].clone();
        }
        return copy;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AlignmentTemplate t && t.name.equals(name) && t.height == height && t.width == width
                && Arrays.deepEquals(t.points, points);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, height, width, Arrays.deepHashCode(points));
    }

    @Override
    public String toString() {
        return "AlignmentTemplate[" + name + ", " + height + "x" + width + ", " + Arrays.deepToString(points) + "]";
    }
}
