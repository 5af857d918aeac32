package io.spherekit.core.align;

import java.util.Locale;

/**
 * A 2-D similarity transform (rotation, uniform scale, translation):
 * {@code x' = a·x − b·y + tx}, {@code y' = b·x + a·y + ty}, i.e. scale {@code s = √(a² + b²)} and rotation
 * {@code θ = atan2(b, a)}. No reflection and no shear.
 *
 * <p>{@link #estimate} is the least-squares fit of Umeyama (S. Umeyama, "Least-squares estimation of
 * transformation parameters between two point patterns", IEEE TPAMI 13(4):376-380, 1991), restricted to 2-D and
 * to {@code det R = +1}; the same estimate as scikit-image's {@code SimilarityTransform.estimate} and OpenCV's
 * {@code estimateAffinePartial2D} without RANSAC, which insightface and OpenCV's {@code FaceRecognizerSF} use for
 * face alignment.
 *
 * <p>Immutable; coordinates are in pixels of whatever frame the points use.
 */
public final class SimilarityTransform {

    private final double a;
    private final double b;
    private final double tx;
    private final double ty;

    /** {@code x' = a·x − b·y + tx}, {@code y' = b·x + a·y + ty}. */
    public SimilarityTransform(double a, double b, double tx, double ty) {
        if (!(Double.isFinite(a) && Double.isFinite(b) && Double.isFinite(tx) && Double.isFinite(ty))) {
            throw new IllegalArgumentException("transform parameters must be finite, got " + a + "," + b + ","
                    + tx + "," + ty);
        }
        this.a = a;
        this.b = b;
        this.tx = tx;
        this.ty = ty;
    }

    /**
     * The transform of a rotation by {@code radians} (counter-clockwise in x-right/y-up axes, i.e. clockwise as
     * seen in an image whose y axis points down), scaling by {@code scale}, then translation.
     */
    public static SimilarityTransform of(double scale, double radians, double tx, double ty) {
        return new SimilarityTransform(scale * Math.cos(radians), scale * Math.sin(radians), tx, ty);
    }

    /**
     * Least-squares similarity transform mapping {@code src[i]} onto {@code dst[i]} (Umeyama 1991): minimises
     * {@code Σ |dst[i] − T(src[i])|²} over rotations, uniform scales and translations.
     *
     * <p>In 2-D, with centred points {@code p = src − mean(src)}, {@code q = dst − mean(dst)}, the optimum is
     * {@code a = Σ(p·q) / Σ|p|²}, {@code b = Σ(p×q) / Σ|p|²} (dot and 2-D cross product), which equals Umeyama's
     * SVD solution {@code c·R} with {@code det R = +1}.
     *
     * @param src points {@code [n][2]} (x, y), {@code n >= 2}, not all equal
     * @param dst points {@code [n][2]}, same length
     * @throws IllegalArgumentException if the lengths differ, {@code n < 2}, a point is not 2-D or not finite,
     *                                  or all source points coincide
     */
    public static SimilarityTransform estimate(double[][] src, double[][] dst) {
        int n = src.length;
        if (n != dst.length) {
            throw new IllegalArgumentException("src has " + n + " points, dst " + dst.length);
        }
        if (n < 2) {
            throw new IllegalArgumentException("need at least 2 point pairs, got " + n);
        }
        double msx = 0, msy = 0, mdx = 0, mdy = 0;
        for (int i = 0; i < n; i++) {
            check(src[i], "src", i);
            check(dst[i], "dst", i);
            msx += src[i][0];
            msy += src[i][1];
            mdx += dst[i][0];
            mdy += dst[i][1];
        }
        msx /= n;
        msy /= n;
        mdx /= n;
        mdy /= n;
        double dot = 0, cross = 0, norm = 0;
        for (int i = 0; i < n; i++) {
            double px = src[i][0] - msx;
            double py = src[i][1] - msy;
            double qx = dst[i][0] - mdx;
            double qy = dst[i][1] - mdy;
            dot += px * qx + py * qy;
            cross += px * qy - py * qx;
            norm += px * px + py * py;
        }
        if (norm < 1e-12) {
            throw new IllegalArgumentException("source points all coincide; no similarity transform is defined");
        }
        double a = dot / norm;
        double b = cross / norm;
        return new SimilarityTransform(a, b, mdx - (a * msx - b * msy), mdy - (b * msx + a * msy));
    }

    private static void check(double[] p, String name, int i) {
        if (p.length != 2 || !Double.isFinite(p[0]) || !Double.isFinite(p[1])) {
            throw new IllegalArgumentException(name + "[" + i + "] must be a finite (x, y) pair");
        }
    }

    /** @return {@code T(x, y)} as {@code {x', y'}} */
    public double[] apply(double x, double y) {
        return new double[] {a * x - b * y + tx, b * x + a * y + ty};
    }

    /** @return the inverse transform {@code T⁻¹} */
    public SimilarityTransform inverse() {
        double d = a * a + b * b;
        double ia = a / d;
        double ib = -b / d;
        return new SimilarityTransform(ia, ib, -(ia * tx - ib * ty), -(ib * tx + ia * ty));
    }

    public double a() { return a; }
    public double b() { return b; }
    public double tx() { return tx; }
    public double ty() { return ty; }

    /** @return the uniform scale {@code √(a² + b²)} */
    public double scale() {
        return Math.hypot(a, b);
    }

    /** @return the rotation {@code atan2(b, a)} in radians */
    public double rotation() {
        return Math.atan2(b, a);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "SimilarityTransform[scale=%.5f, rotation=%.3f deg, t=(%.3f, %.3f)]",
                scale(), Math.toDegrees(rotation()), tx, ty);
    }
}
