package io.spherekit.trainer.data;

import io.spherekit.core.Preprocessing;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Training-time augmentation beyond the random flip and crop: a random similarity transform around the face
 * (scale and rotation jitter about the alignment), colour jitter, and random erasing. All off by default
 * ({@link #NONE}), in which case the trainer takes the plain flip + crop window path and draws exactly the random
 * numbers it drew before this class existed.
 *
 * <ul>
 *   <li><b>scale</b> {@code a} ∈ [0, 0.5]: the face is zoomed by a factor drawn uniformly from [1 − a, 1 + a].</li>
 *   <li><b>rotate</b> {@code r} ∈ [0, 45] degrees: rotated by an angle drawn uniformly from [−r, r] about the
 *       window's centre (the alignment template's centre).</li>
 *   <li><b>color</b> {@code c} ∈ [0, 1]: brightness, contrast and saturation factors each drawn uniformly from
 *       [1 − c, 1 + c], applied in that order as torchvision's {@code ColorJitter(c, c, c)} defines them: brightness
 *       multiplies, contrast blends with the image's mean grey level, saturation with each pixel's grey level
 *       (ITU-R 601 luma: 0.299 R + 0.587 G + 0.114 B); results are clipped to [0, 255].</li>
 *   <li><b>erase</b> {@code p} ∈ [0, 1]: with probability p, one rectangle of 2–40 % of the window's area and aspect
 *       ratio in [0.3, 1/0.3] is filled with uniform random values (Zhong et al., "Random Erasing Data
 *       Augmentation", AAAI 2020, Alg. 1 with s_l = 0.02, s_h = 0.4, r_1 = 0.3).</li>
 * </ul>
 *
 * <p>Geometry: output pixel {@code p} of the {@code h × w} window samples the stored {@code H × W} crop (the window
 * grown by the crop margin on each side) at {@code c_src + (dy, dx) + R(θ)·(p − c_out) / s} with bilinear
 * interpolation, the border replicated; {@code c_out}, {@code c_src} are the centres ({@code (h − 1)/2, (w − 1)/2}
 * and {@code (H − 1)/2, (W − 1)/2}). With s = 1 and θ = 0 this is exactly the crop window at offset (dy, dx).
 * A larger {@code --random-crop} margin gives the transform real pixels instead of replicated borders.
 *
 * @param scale  zoom jitter a (fraction)
 * @param rotate rotation jitter r (degrees)
 * @param color  colour jitter c (fraction)
 * @param erase  random-erasing probability p
 */
public record Augmentation(double scale, double rotate, double color, double erase) {

    /** No augmentation beyond flip and crop. */
    public static final Augmentation NONE = new Augmentation(0, 0, 0, 0);

    /** The spec keys, in {@link #spec()} order. */
    private static final List<String> KEYS = List.of("scale", "rotate", "color", "erase");

    /** The CLI syntax, for messages. */
    public static final String SYNTAX = "none | key=value[,key=value...] with keys scale (0..0.5), rotate (degrees,"
            + " 0..45), color (0..1), erase (probability 0..1); e.g. scale=0.1,rotate=10,color=0.2,erase=0.5";

    public Augmentation {
        check("scale", scale, 0.5);
        check("rotate", rotate, 45);
        check("color", color, 1);
        check("erase", erase, 1);
    }

    private static void check(String key, double v, double max) {
        if (!(v >= 0 && v <= max)) {
            throw new IllegalArgumentException("augmentation " + key + " must be in [0, " + fmt(max) + "], got " + v);
        }
    }

    /**
     * Parses {@code none} or {@code key=value,...} (see {@link #SYNTAX}); missing keys are 0.
     *
     * @throws IllegalArgumentException naming the bad part: an unknown key, a repeated key, a value that is not a
     *                                  number, or one out of range
     */
    public static Augmentation parse(String spec) {
        String t = spec == null ? "" : spec.trim();
        if (t.isEmpty()) {
            throw new IllegalArgumentException("augmentation is empty; expected " + SYNTAX);
        }
        if (t.equalsIgnoreCase("none")) {
            return NONE;
        }
        Map<String, Double> v = new LinkedHashMap<>();
        for (String part : t.split(",")) {
            String[] kv = part.trim().split("=", -1);
            if (kv.length != 2 || kv[0].isBlank()) {
                throw new IllegalArgumentException("augmentation '" + part.trim() + "' is not key=value; expected " + SYNTAX);
            }
            String key = kv[0].trim().toLowerCase(Locale.ROOT);
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown augmentation '" + kv[0].trim() + "'; expected " + SYNTAX);
            }
            double d;
            try {
                d = Double.parseDouble(kv[1].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("augmentation " + key + "=" + kv[1].trim() + " is not a number");
            }
            if (v.put(key, d) != null) {
                throw new IllegalArgumentException("augmentation " + key + " given twice in '" + t + "'");
            }
        }
        return new Augmentation(v.getOrDefault("scale", 0.0), v.getOrDefault("rotate", 0.0),
                v.getOrDefault("color", 0.0), v.getOrDefault("erase", 0.0));
    }

    /** @return whether this is {@link #NONE} */
    public boolean isNone() {
        return scale == 0 && rotate == 0 && color == 0 && erase == 0;
    }

    /** The canonical spec {@link #parse} reads back ({@code none}, or the non-zero keys in a fixed order). */
    public String spec() {
        if (isNone()) {
            return "none";
        }
        StringBuilder sb = new StringBuilder();
        append(sb, "scale", scale);
        append(sb, "rotate", rotate);
        append(sb, "color", color);
        append(sb, "erase", erase);
        return sb.toString();
    }

    private static void append(StringBuilder sb, String k, double v) {
        if (v != 0) {
            sb.append(sb.length() == 0 ? "" : ",").append(k).append('=').append(fmt(v));
        }
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    @Override
    public String toString() {
        return spec();
    }

    /**
     * One draw of the random parameters.
     *
     * @param dy, dx      window offset in pixels (the random crop), in [−margin, margin]
     * @param zoom        s (1 = none)
     * @param angle       θ in radians (0 = none)
     * @param brightness  brightness factor (1 = none)
     * @param contrast    contrast factor (1 = none)
     * @param saturation  saturation factor (1 = none)
     * @param eraseTop, eraseLeft, eraseHeight, eraseWidth the erased rectangle in window pixels (height 0 = none)
     * @param eraseSeed   seed of the erased rectangle's random fill
     */
    public record Draw(boolean flip, int dy, int dx, double zoom, double angle, double brightness, double contrast,
                       double saturation, int eraseTop, int eraseLeft, int eraseHeight, int eraseWidth, long eraseSeed) {

        /** The plain window at (dy, dx), optionally mirrored: no transform, colour change or erasing. */
        public static Draw window(boolean flip, int dy, int dx) {
            return new Draw(flip, dy, dx, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0);
        }
    }

    /**
     * Draws the parameters for one image, after the flip and crop offsets the trainer draws anyway.
     *
     * @param height, width the window (model input) size
     */
    public Draw draw(Random rng, boolean flip, int dy, int dx, int height, int width) {
        double zoom = scale > 0 ? 1 + scale * (2 * rng.nextDouble() - 1) : 1;
        double angle = rotate > 0 ? Math.toRadians(rotate * (2 * rng.nextDouble() - 1)) : 0;
        double br = color > 0 ? 1 + color * (2 * rng.nextDouble() - 1) : 1;
        double ct = color > 0 ? 1 + color * (2 * rng.nextDouble() - 1) : 1;
        double sat = color > 0 ? 1 + color * (2 * rng.nextDouble() - 1) : 1;
        int et = 0, el = 0, eh = 0, ew = 0;
        long seed = 0;
        if (erase > 0 && rng.nextDouble() < erase) {
            double area = (double) height * width;
            for (int attempt = 0; attempt < 100; attempt++) {
                double target = area * (0.02 + 0.38 * rng.nextDouble());
                double logR = Math.log(0.3) + (Math.log(1 / 0.3) - Math.log(0.3)) * rng.nextDouble();
                double ratio = Math.exp(logR);
                int h = (int) Math.round(Math.sqrt(target * ratio));
                int w = (int) Math.round(Math.sqrt(target / ratio));
                if (h >= 1 && w >= 1 && h < height && w < width) {
                    eh = h;
                    ew = w;
                    et = rng.nextInt(height - h + 1);
                    el = rng.nextInt(width - w + 1);
                    seed = rng.nextLong();
                    break;
                }
            }
        }
        return new Draw(flip, dy, dx, zoom, angle, br, ct, sat, et, el, eh, ew, seed);
    }

    /**
     * Renders one augmented image as a normalised CHW tensor slot (the layout of
     * {@link Preprocessing#normalizeWindowInto}).
     *
     * @param hwc  {@code srcH · srcW · 3} RGB bytes: the stored crop, {@code pre}'s window grown by a margin per side
     * @param pre  the model input (window size, mean, scale, channel order)
     * @param d    the drawn parameters
     * @throws IllegalArgumentException when {@code hwc} is not {@code srcH · srcW · 3} bytes or the window is larger
     *                                  than the stored crop
     */
    public static void render(byte[] hwc, int srcH, int srcW, Preprocessing pre, Draw d, float[] dst, int offset) {
        int h = pre.height();
        int w = pre.width();
        if (hwc.length != srcH * srcW * 3 || srcH < h || srcW < w) {
            throw new IllegalArgumentException("a " + h + "x" + w + " window does not fit a " + srcH + "x" + srcW
                    + " image of " + hwc.length + " bytes");
        }
        int plane = h * w;
        float[] rgb = new float[3 * plane]; // HWC, 0..255
        double cy = (h - 1) / 2.0, cx = (w - 1) / 2.0;
        double sy = (srcH - 1) / 2.0 + d.dy(), sx = (srcW - 1) / 2.0 + d.dx();
        double cos = Math.cos(d.angle()) / d.zoom(), sin = Math.sin(d.angle()) / d.zoom();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double px = (d.flip() ? w - 1 - x : x) - cx;
                double py = y - cy;
                double fx = sx + cos * px - sin * py;
                double fy = sy + sin * px + cos * py;
                sample(hwc, srcH, srcW, fy, fx, rgb, (y * w + x) * 3);
            }
        }
        if (d.brightness() != 1 || d.contrast() != 1 || d.saturation() != 1) {
            colour(rgb, d.brightness(), d.contrast(), d.saturation());
        }
        float mean = pre.mean(), scale = pre.scale();
        int rOff = pre.channelOrder() == Preprocessing.ChannelOrder.RGB ? 0 : 2 * plane;
        int bOff = pre.channelOrder() == Preprocessing.ChannelOrder.RGB ? 2 * plane : 0;
        for (int i = 0; i < plane; i++) {
            dst[offset + rOff + i] = (rgb[3 * i] - mean) * scale;
            dst[offset + plane + i] = (rgb[3 * i + 1] - mean) * scale;
            dst[offset + bOff + i] = (rgb[3 * i + 2] - mean) * scale;
        }
        if (d.eraseHeight() > 0) {
            Random fill = new Random(d.eraseSeed());
            for (int c = 0; c < 3; c++) {
                for (int y = d.eraseTop(); y < d.eraseTop() + d.eraseHeight(); y++) {
                    for (int x = d.eraseLeft(); x < d.eraseLeft() + d.eraseWidth(); x++) {
                        dst[offset + c * plane + y * w + x] = (255f * fill.nextFloat() - mean) * scale;
                    }
                }
            }
        }
    }

    /** Bilinear sample at (fy, fx) with the border replicated, into {@code out[o..o+2]}. */
    private static void sample(byte[] hwc, int srcH, int srcW, double fy, double fx, float[] out, int o) {
        fy = Math.max(0, Math.min(srcH - 1, fy));
        fx = Math.max(0, Math.min(srcW - 1, fx));
        int y0 = (int) Math.floor(fy), x0 = (int) Math.floor(fx);
        int y1 = Math.min(srcH - 1, y0 + 1), x1 = Math.min(srcW - 1, x0 + 1);
        double ay = fy - y0, ax = fx - x0;
        int a = (y0 * srcW + x0) * 3, b = (y0 * srcW + x1) * 3, c = (y1 * srcW + x0) * 3, e = (y1 * srcW + x1) * 3;
        for (int k = 0; k < 3; k++) {
            double top = (hwc[a + k] & 0xFF) * (1 - ax) + (hwc[b + k] & 0xFF) * ax;
            double bot = (hwc[c + k] & 0xFF) * (1 - ax) + (hwc[e + k] & 0xFF) * ax;
            out[o + k] = (float) (top * (1 - ay) + bot * ay);
        }
    }

    /** torchvision's adjust_brightness, adjust_contrast, adjust_saturation in that order, on HWC 0..255 values. */
    static void colour(float[] rgb, double brightness, double contrast, double saturation) {
        int n = rgb.length / 3;
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = clip(rgb[i] * brightness);
        }
        if (contrast != 1) {
            double grey = 0;
            for (int i = 0; i < n; i++) {
                grey += luma(rgb, 3 * i);
            }
            grey /= n;
            for (int i = 0; i < rgb.length; i++) {
                rgb[i] = clip(grey + contrast * (rgb[i] - grey));
            }
        }
        if (saturation != 1) {
            for (int i = 0; i < n; i++) {
                double g = luma(rgb, 3 * i);
                for (int k = 0; k < 3; k++) {
                    rgb[3 * i + k] = clip(g + saturation * (rgb[3 * i + k] - g));
                }
            }
        }
    }

    private static double luma(float[] rgb, int o) {
        return 0.299 * rgb[o] + 0.587 * rgb[o + 1] + 0.114 * rgb[o + 2];
    }

    private static float clip(double v) {
        return (float) Math.max(0, Math.min(255, v));
    }
}
