package io.spherekit.core.align;

import java.awt.image.BufferedImage;
import java.util.Objects;

/**
 * Aligns a face onto an {@link AlignmentTemplate}: the least-squares similarity transform
 * ({@link SimilarityTransform#estimate}, Umeyama 1991) from the face's four points to the template's, then a
 * bilinear warp of the source image into the template's {@code height × width} frame.
 *
 * <p>Sampling: output pixel {@code (i, j)} takes the source value at {@code T⁻¹(i + 0.5, j + 0.5)} in continuous
 * coordinates (see {@link AlignmentTemplate}), interpolated bilinearly between the four nearest pixel centres.
 * Points outside the image read as black (0, 0, 0), as OpenCV's {@code warpAffine} default border used by
 * insightface's {@code norm_crop}. Output is HWC RGB bytes, the form {@code Preprocessing.normalizeInto} takes.
 *
 * <p>Immutable and thread-safe.
 */
public final class FaceAligner {

    private final AlignmentTemplate template;

    /** @param template where the model expects the four points */
    public FaceAligner(AlignmentTemplate template) {
        this.template = Objects.requireNonNull(template, "template");
    }

    /** @return the template this aligner maps onto */
    public AlignmentTemplate template() {
        return template;
    }

    /**
     * The transform from source-image coordinates to template coordinates.
     *
     * @param points {@code [4][2]} source points in continuous image coordinates: left-in-image eye,
     *               right-in-image eye, nose tip, mouth centre
     * @throws IllegalArgumentException if there are not 4 finite points or they all coincide
     */
    public SimilarityTransform transform(double[][] points) {
        if (points.length != AlignmentTemplate.POINTS) {
            throw new IllegalArgumentException("need " + AlignmentTemplate.POINTS + " face points, got "
                    + points.length);
        }
        return SimilarityTransform.estimate(points, template.points());
    }

    /**
     * Aligns one face.
     *
     * @param image  decoded source image
     * @param points as in {@link #transform}
     * @return {@code template.height() · template.width() · 3} RGB bytes, row-major
     */
    public byte[] align(BufferedImage image, double[][] points) {
        int w = image.getWidth();
        int h = image.getHeight();
        return warp(image.getRGB(0, 0, w, h, null, 0, w), w, h, transform(points), template.height(),
                template.width());
    }

    /**
     * Bilinear warp of packed ARGB pixels through a similarity transform.
     *
     * @param argb     source pixels, row-major, length {@code sw · sh}
     * @param toOutput transform from source to output continuous coordinates
     * @param outH     output height
     * @param outW     output width
     * @return {@code outH · outW · 3} RGB bytes, row-major; outside the source reads as black
     */
    public static byte[] warp(int[] argb, int sw, int sh, SimilarityTransform toOutput, int outH, int outW) {
        if (argb.length != (long) sw * sh) {
            throw new IllegalArgumentException("argb length " + argb.length + " != " + sw + "x" + sh);
        }
        SimilarityTransform inv = toOutput.inverse();
        byte[] out = new byte[outH * outW * 3];
        int o = 0;
        for (int y = 0; y < outH; y++) {
            for (int x = 0; x < outW; x++) {
                double[] s = inv.apply(x + 0.5, y + 0.5);
                double fx = s[0] - 0.5;
                double fy = s[1] - 0.5;
                int x0 = (int) Math.floor(fx);
                int y0 = (int) Math.floor(fy);
                double wx = fx - x0;
                double wy = fy - y0;
                for (int shift = 16; shift >= 0; shift -= 8) {
                    double v = (1 - wy) * ((1 - wx) * sample(argb, sw, sh, x0, y0, shift)
                            + wx * sample(argb, sw, sh, x0 + 1, y0, shift))
                            + wy * ((1 - wx) * sample(argb, sw, sh, x0, y0 + 1, shift)
                            + wx * sample(argb, sw, sh, x0 + 1, y0 + 1, shift));
                    out[o++] = (byte) Math.min(255, Math.max(0, Math.round(v)));
                }
            }
        }
        return out;
    }

    private static int sample(int[] argb, int sw, int sh, int x, int y, int shift) {
        if (x < 0 || y < 0 || x >= sw || y >= sh) {
            return 0;
        }
        return (argb[y * sw + x] >> shift) & 0xFF;
    }
}
