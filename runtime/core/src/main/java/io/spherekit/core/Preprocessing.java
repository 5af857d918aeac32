package io.spherekit.core;

import io.spherekit.core.ModelMetadata.Key;

import io.spherekit.core.align.AlignmentTemplate;
import io.spherekit.core.align.FaceAligner;
import java.awt.image.BufferedImage;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The one preprocessing definition shared by the trainer and the runtime: crop, resize, channel order and
 * pixel normalisation that turn a decoded image into a model input tensor.
 *
 * <p>Pipeline, applied identically at training and at inference time:
 * <ol>
 *   <li><b>Crop</b> the box {@code (cropLeft, cropTop, cropWidth, cropHeight)}, given as fractions of the source
 *       image's width and height so the same definition applies to any image size.</li>
 *   <li><b>Resize</b> the box to {@code height × width} with bilinear interpolation on half-pixel centres
 *       (the convention of OpenCV {@code INTER_LINEAR} and PyTorch {@code align_corners=False}); samples that
 *       fall outside the image are clamped to the border. Crop and resize happen in one sampling pass.</li>
 *   <li><b>Normalise</b> each channel as {@code (pixel − mean) · scale}; SphereFace uses
 *       {@code (p − 127.5) / 128} (wy1iu/sphereface {@code sphereface_model.prototxt}, {@code scale: 0.0078125}).</li>
 *   <li><b>Layout</b> NCHW float32, channels in {@link ChannelOrder} order.</li>
 * </ol>
 *
 * <p>{@link #LFW_SPHEREFACE} is the default for the deep-funneled 250×250 LFW images: the box
 * x∈[67,181), y∈[52,185) (114×133 px, the 96:112 aspect of the SphereFace input). It was chosen from the mean of
 * 800 deep-funneled faces, whose eye centres lie near (102,112) and (145,112) and mouth near (125,160): the box
 * scales the face by 1/1.18 so that eyes and mouth land on the SphereFace alignment template
 * (eyes at (30.3,51.7) and (65.5,51.5), mouth corners at y≈92.3 in the 112×96 crop).
 *
 * <p><b>Aligned mode</b> ({@link #alignResize}): instead of the fixed crop box, the face's detected eyes, nose
 * tip and mouth centre are mapped onto an {@link AlignmentTemplate} of the same {@code height × width} by a
 * least-squares similarity transform and the image is warped bilinearly ({@link FaceAligner}); normalisation and
 * layout are the same as above. A model records its template under {@link #ALIGN_TEMPLATE_KEY}; without it the
 * template follows from the input size ({@link AlignmentTemplate#forInputSize}).
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class Preprocessing {

    /** Model metadata key naming the alignment template of the aligned mode (e.g. {@code sphereface-112x96}). */
    public static final String ALIGN_TEMPLATE_KEY = Key.INPUT_ALIGN_TEMPLATE.key();

    /** Order of the three colour channels in the model input. */
    public enum ChannelOrder { RGB, BGR }

    /** SphereFace on deep-funneled LFW: 250×250 → crop 114×133 at (67,52) → 112×96, RGB, (p−127.5)/128. */
    public static final Preprocessing LFW_SPHEREFACE = new Preprocessing(
            67 / 250.0, 52 / 250.0, 114 / 250.0, 133 / 250.0, 112, 96, 127.5f, 1f / 128f, ChannelOrder.RGB);

    private final double cropLeft;
    private final double cropTop;
    private final double cropWidth;
    private final double cropHeight;
    private final int height;
    private final int width;
    private final float mean;
    private final float scale;
    private final ChannelOrder channelOrder;

    /**
     * @param cropLeft     left edge of the crop box as a fraction of the image width, in [0, 1)
     * @param cropTop      top edge as a fraction of the image height, in [0, 1)
     * @param cropWidth    box width as a fraction of the image width, in (0, 1]
     * @param cropHeight   box height as a fraction of the image height, in (0, 1]
     * @param height       output height in pixels (SphereFace: 112)
     * @param width        output width in pixels (SphereFace: 96)
     * @param mean         subtracted from every 0..255 pixel value (SphereFace: 127.5)
     * @param scale        multiplies the centred value (SphereFace: 1/128)
     * @param channelOrder channel order of the model input
     * @throws IllegalArgumentException naming the argument, when a value is out of range
     */
    public Preprocessing(double cropLeft, double cropTop, double cropWidth, double cropHeight,
                         int height, int width, float mean, float scale, ChannelOrder channelOrder) {
        check(cropLeft >= 0 && cropLeft < 1, "cropLeft", "in [0,1)", cropLeft);
        check(cropTop >= 0 && cropTop < 1, "cropTop", "in [0,1)", cropTop);
        check(cropWidth > 0 && cropLeft + cropWidth <= 1 + 1e-9, "cropWidth", "in (0, 1-cropLeft]", cropWidth);
        check(cropHeight > 0 && cropTop + cropHeight <= 1 + 1e-9, "cropHeight", "in (0, 1-cropTop]", cropHeight);
        check(height > 0 && height <= 4096, "height", "in [1,4096]", height);
        check(width > 0 && width <= 4096, "width", "in [1,4096]", width);
        check(Float.isFinite(mean), "mean", "finite", mean);
        check(Float.isFinite(scale) && scale != 0, "scale", "finite and non-zero", scale);
        this.cropLeft = cropLeft;
        this.cropTop = cropTop;
        this.cropWidth = cropWidth;
        this.cropHeight = cropHeight;
        this.height = height;
        this.width = width;
        this.mean = mean;
        this.scale = scale;
        this.channelOrder = Objects.requireNonNull(channelOrder, "channelOrder");
    }

    /** A whole-image resize (no crop) to {@code height × width}, e.g. for ArcFace-style 112×112 aligned inputs. */
    public static Preprocessing fullImage(int height, int width, float mean, float scale, ChannelOrder order) {
        return new Preprocessing(0, 0, 1, 1, height, width, mean, scale, order);
    }

    private static void check(boolean ok, String name, String expected, Object got) {
        if (!ok) {
            throw new IllegalArgumentException(name + " must be " + expected + ", got " + got);
        }
    }

    public int height() { return height; }
    public int width() { return width; }
    public float mean() { return mean; }
    public float scale() { return scale; }
    public ChannelOrder channelOrder() { return channelOrder; }
    public double cropLeft() { return cropLeft; }
    public double cropTop() { return cropTop; }
    public double cropWidth() { return cropWidth; }
    public double cropHeight() { return cropHeight; }

    /** Number of floats in one preprocessed image: {@code 3 · height · width}. */
    public int tensorSize() { return 3 * height * width; }

    /**
     * Crops and resizes an image to {@code height × width} RGB bytes, HWC order (the compact form the trainer caches).
     *
     * @param image any decoded image; grey and palette images are expanded to RGB, alpha is dropped
     * @return {@code height·width·3} bytes, row-major, R,G,B per pixel, values 0..255
     */
    public byte[] cropResize(BufferedImage image) {
        int sw = image.getWidth();
        int sh = image.getHeight();
        if (sw < 1 || sh < 1) {
            throw new IllegalArgumentException("image has no pixels: " + sw + "x" + sh);
        }
        int[] argb = image.getRGB(0, 0, sw, sh, null, 0, sw);
        return cropResize(argb, sw, sh);
    }

    /**
     * As {@link #cropResize(BufferedImage)}, from packed ARGB pixels.
     *
     * @param argb packed 0xAARRGGBB pixels, row-major, length {@code sw·sh}
     */
    public byte[] cropResize(int[] argb, int sw, int sh) {
        if (argb.length != sw * sh) {
            throw new IllegalArgumentException("argb length " + argb.length + " != " + sw + "x" + sh);
        }
        double x0 = cropLeft * sw;
        double y0 = cropTop * sh;
        double fx = cropWidth * sw / width;
        double fy = cropHeight * sh / height;
        byte[] out = new byte[height * width * 3];
        int[] xl = new int[width];
        int[] xh = new int[width];
        float[] xw = new float[width];
        for (int dx = 0; dx < width; dx++) {
            double sx = x0 + (dx + 0.5) * fx - 0.5;
            sx = Math.min(Math.max(sx, 0), sw - 1);
            int lo = (int) Math.floor(sx);
            xl[dx] = lo;
            xh[dx] = Math.min(lo + 1, sw - 1);
            xw[dx] = (float) (sx - lo);
        }
        int o = 0;
        for (int dy = 0; dy < height; dy++) {
            double sy = y0 + (dy + 0.5) * fy - 0.5;
            sy = Math.min(Math.max(sy, 0), sh - 1);
            int ylo = (int) Math.floor(sy);
            int yhi = Math.min(ylo + 1, sh - 1);
            float wy = (float) (sy - ylo);
            int rowLo = ylo * sw;
            int rowHi = yhi * sw;
            for (int dx = 0; dx < width; dx++) {
                int p00 = argb[rowLo + xl[dx]];
                int p01 = argb[rowLo + xh[dx]];
                int p10 = argb[rowHi + xl[dx]];
                int p11 = argb[rowHi + xh[dx]];
                float wx = xw[dx];
                for (int shift = 16; shift >= 0; shift -= 8) {
                    float top = ((p00 >> shift) & 0xFF) * (1 - wx) + ((p01 >> shift) & 0xFF) * wx;
                    float bot = ((p10 >> shift) & 0xFF) * (1 - wx) + ((p11 >> shift) & 0xFF) * wx;
                    float v = top * (1 - wy) + bot * wy;
                    out[o++] = (byte) Math.min(255, Math.round(v));
                }
            }
        }
        return out;
    }

    /**
     * The aligned mode's counterpart of {@link #cropResize}: warps the face whose four points are given onto the
     * template, giving {@code height·width·3} RGB bytes, HWC, for {@link #normalizeInto}.
     *
     * @param image    decoded source image
     * @param points   {@code [4][2]} source points in continuous pixel coordinates: eye on the image's left, eye
     *                 on the image's right, nose tip, mouth centre
     * @param template where the model expects those points; its size must be this definition's
     * @throws IllegalArgumentException if the template's size differs or the points are degenerate
     */
    public byte[] alignResize(BufferedImage image, double[][] points, AlignmentTemplate template) {
        if (template.height() != height || template.width() != width) {
            throw new IllegalArgumentException("alignment template " + template.name() + " is " + template.height()
                    + "x" + template.width() + ", the model input is " + height + "x" + width);
        }
        return new FaceAligner(template).align(image, points);
    }

    /**
     * Normalises cropped HWC RGB bytes into a CHW float tensor slot.
     *
     * @param hwc    {@code height·width·3} RGB bytes from {@link #cropResize}
     * @param flip   mirror horizontally (training augmentation)
     * @param dst    destination array
     * @param offset first index written in {@code dst}; {@link #tensorSize()} floats are written
     */
    public void normalizeInto(byte[] hwc, boolean flip, float[] dst, int offset) {
        int plane = height * width;
        if (hwc.length != plane * 3) {
            throw new IllegalArgumentException("expected " + (plane * 3) + " bytes, got " + hwc.length);
        }
        int rOff = channelOrder == ChannelOrder.RGB ? 0 : 2 * plane;
        int bOff = channelOrder == ChannelOrder.RGB ? 2 * plane : 0;
        int gOff = plane;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int sx = flip ? width - 1 - x : x;
                int s = (y * width + sx) * 3;
                int d = offset + y * width + x;
                dst[d + rOff] = ((hwc[s] & 0xFF) - mean) * scale;
                dst[d + gOff] = ((hwc[s + 1] & 0xFF) - mean) * scale;
                dst[d + bOff] = ((hwc[s + 2] & 0xFF) - mean) * scale;
            }
        }
    }

    /**
     * Normalises a {@code height × width} window of a larger cropped image into a CHW float tensor slot: the random
     * crop augmentation of clcarwin/sphereface_pytorch (a 112×96 crop from a 116×100 resize).
     *
     * @param hwc    {@code srcH·srcW·3} RGB bytes (from {@link #withMargin(int)}{@code .cropResize})
     * @param offY   top row of the window, in [0, srcH − height]
     * @param offX   left column of the window, in [0, srcW − width]
     */
    public void normalizeWindowInto(byte[] hwc, int srcH, int srcW, int offY, int offX, boolean flip,
                                    float[] dst, int offset) {
        if (hwc.length != srcH * srcW * 3 || offY < 0 || offX < 0 || offY + height > srcH || offX + width > srcW) {
            throw new IllegalArgumentException("window " + height + "x" + width + " at (" + offY + "," + offX
                    + ") does not fit a " + srcH + "x" + srcW + " image of " + hwc.length + " bytes");
        }
        int plane = height * width;
        int rOff = channelOrder == ChannelOrder.RGB ? 0 : 2 * plane;
        int bOff = channelOrder == ChannelOrder.RGB ? 2 * plane : 0;
        for (int y = 0; y < height; y++) {
            int row = (offY + y) * srcW;
            for (int x = 0; x < width; x++) {
                int sx = offX + (flip ? width - 1 - x : x);
                int s = (row + sx) * 3;
                int d = offset + y * width + x;
                dst[d + rOff] = ((hwc[s] & 0xFF) - mean) * scale;
                dst[d + plane] = ((hwc[s + 1] & 0xFF) - mean) * scale;
                dst[d + bOff] = ((hwc[s + 2] & 0xFF) - mean) * scale;
            }
        }
    }

    /** The same crop box, mean, scale and channel order at another output size. */
    public Preprocessing withSize(int newHeight, int newWidth) {
        return new Preprocessing(cropLeft, cropTop, cropWidth, cropHeight, newHeight, newWidth, mean, scale, channelOrder);
    }

    /**
     * The same sampling grid grown by {@code margin} output pixels on every side: output
     * {@code (height+2·margin) × (width+2·margin)}, box enlarged by the same step. Its centre window
     * (offset {@code margin, margin}) samples exactly the source points of this definition, so a centre crop of the
     * enlarged image equals {@link #cropResize} of this one (where the box lies inside the image).
     *
     * @throws IllegalArgumentException when the enlarged box leaves the image (fractions outside [0, 1])
     */
    public Preprocessing withMargin(int margin) {
        if (margin < 0) {
            throw new IllegalArgumentException("margin must be >= 0, got " + margin);
        }
        double stepX = cropWidth / width;
        double stepY = cropHeight / height;
        return new Preprocessing(cropLeft - margin * stepX, cropTop - margin * stepY,
                cropWidth + 2 * margin * stepX, cropHeight + 2 * margin * stepY,
                height + 2 * margin, width + 2 * margin, mean, scale, channelOrder);
    }

    /** Full pipeline for one image: a new {@code [3, height, width]} CHW float array. */
    public float[] toTensor(BufferedImage image) {
        float[] out = new float[tensorSize()];
        normalizeInto(cropResize(image), false, out, 0);
        return out;
    }

    /** The definition as ONNX {@code metadata_props} entries ({@code spherekit.input.*}, see {@link ModelMetadata.Key}). */
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(Key.INPUT_LAYOUT.key(), "NCHW");
        m.put(Key.INPUT_HEIGHT.key(), Integer.toString(height));
        m.put(Key.INPUT_WIDTH.key(), Integer.toString(width));
        m.put(Key.INPUT_CHANNEL_ORDER.key(), channelOrder.name());
        m.put(Key.INPUT_MEAN.key(), Float.toString(mean));
        m.put(Key.INPUT_SCALE.key(), Float.toString(scale));
        m.put(Key.INPUT_CROP.key(), String.format(Locale.ROOT, "%.6f,%.6f,%.6f,%.6f",
                cropLeft, cropTop, cropWidth, cropHeight));
        return m;
    }

    /**
     * Reads a definition written by {@link #toMetadata()} (defaults: crop {@code 0,0,1,1}, mean 127.5, scale
     * 1/128, RGB). {@link ModelMetadata#parse} calls this and also validates each key's value.
     *
     * @return the definition, or {@code null} when the map holds no {@code spherekit.input.height}
     * @throws IllegalArgumentException naming the key, when a value is present but malformed
     */
    public static Preprocessing fromMetadata(Map<String, String> m) {
        if (!m.containsKey(Key.INPUT_HEIGHT.key())) {
            return null;
        }
        try {
            String[] c = m.getOrDefault(Key.INPUT_CROP.key(), "0,0,1,1").split(",");
            if (c.length != 4) {
                throw new IllegalArgumentException(Key.INPUT_CROP + " must have 4 comma-separated fractions");
            }
            return new Preprocessing(Double.parseDouble(c[0]), Double.parseDouble(c[1]),
                    Double.parseDouble(c[2]), Double.parseDouble(c[3]),
                    Integer.parseInt(m.get(Key.INPUT_HEIGHT.key())),
                    Integer.parseInt(m.get(Key.INPUT_WIDTH.key())),
                    Float.parseFloat(m.getOrDefault(Key.INPUT_MEAN.key(), "127.5")),
                    Float.parseFloat(m.getOrDefault(Key.INPUT_SCALE.key(), "0.0078125")),
                    ChannelOrder.valueOf(m.getOrDefault(Key.INPUT_CHANNEL_ORDER.key(), "RGB")));
        } catch (NumberFormatException | NullPointerException e) {
            throw new IllegalArgumentException("malformed " + ModelMetadata.PREFIX + "input.* metadata: " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "Preprocessing[crop=(%.4f,%.4f,%.4f,%.4f) -> %dx%d %s, (p-%.1f)*%.7f]",
                cropLeft, cropTop, cropWidth, cropHeight, height, width, channelOrder, mean, scale);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Preprocessing p)) {
            return false;
        }
        return p.cropLeft == cropLeft && p.cropTop == cropTop && p.cropWidth == cropWidth
                && p.cropHeight == cropHeight && p.height == height && p.width == width && p.mean == mean
                && p.scale == scale && p.channelOrder == channelOrder;
    }

    @Override
    public int hashCode() {
        return Objects.hash(cropLeft, cropTop, cropWidth, cropHeight, height, width, mean, scale, channelOrder);
    }
}
