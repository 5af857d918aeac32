package io.spherekit.core;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.SortedSet;
import java.util.TreeSet;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.w3c.dom.Node;

/**
 * Reads image files with {@link ImageIO} (TwelveMonkeys JPEG and PNM plug-ins are on the classpath, so JPEG
 * with CMYK/EXIF, PNG, BMP, GIF, PGM/PPM are supported).
 *
 * <p>Safety: the header dimensions are read through {@link ImageReader#getWidth}/{@link ImageReader#getHeight}
 * <em>before</em> any pixel is decoded, and images above a pixel limit ({@link #DEFAULT_MAX_PIXELS} by default)
 * are refused, so a small file declaring a huge image cannot exhaust the heap. A decoder warning that reports a
 * premature end of data is treated as a truncated file.
 *
 * <p>Orientation: for JPEGs carrying an EXIF orientation tag (exposed by the TwelveMonkeys reader as the standard
 * {@code javax_imageio_1.0} {@code Dimension/ImageOrientation} node), the returned image is rotated/flipped so
 * that it displays upright; its width and height are swapped for the 90°/270° cases.
 *
 * <p>Grey images are returned as RGB with the stored grey value replicated in each channel (no gamma change).
 *
 * <p>Thread-safe: every call uses its own reader.
 */
public final class Images {

    /** Default pixel limit: 50 megapixels (width · height). */
    public static final long DEFAULT_MAX_PIXELS = 50_000_000L;

    private static final Logger LOG = LoggerFactory.getLogger(Images.class);

    static {
        ImageIO.setUseCache(false);
        ImageIO.scanForPlugins();
    }

    private Images() {
    }

    /**
     * The file-name suffixes of the formats {@link #read} decodes (ImageIO's readers, TwelveMonkeys included),
     * lower case without the dot, e.g. {@code jpg, jpeg, png, bmp, gif, pgm, ppm, pnm, pbm, pam, wbmp}.
     *
     * @return a sorted, unmodifiable set
     */
    public static SortedSet<String> readableSuffixes() {
        SortedSet<String> out = new TreeSet<>();
        for (String s : ImageIO.getReaderFileSuffixes()) {
            if (s != null && !s.isBlank()) {
                out.add(s.toLowerCase(Locale.ROOT));
            }
        }
        return Collections.unmodifiableSortedSet(out);
    }

    /**
     * Reads an image, refusing images above {@link #DEFAULT_MAX_PIXELS}.
     *
     * @see #read(Path, long)
     */
    public static BufferedImage read(Path file) throws IOException {
        return read(file, DEFAULT_MAX_PIXELS);
    }

    /**
     * Reads the first image of a file and applies its EXIF orientation.
     *
     * @param file      image file (JPEG, PNG, BMP, GIF, PNM, ...)
     * @param maxPixels largest accepted {@code width · height}, checked from the header before decoding
     * @return the decoded image, upright; at least 1×1
     * @throws IOException              naming the file and the problem: it does not exist, is a directory, is
     *                                  empty, is not an image of a supported format, is truncated or corrupt,
     *                                  or declares more than {@code maxPixels} pixels
     * @throws IllegalArgumentException if {@code maxPixels < 1}
     */
    public static BufferedImage read(Path file, long maxPixels) throws IOException {
        if (maxPixels < 1) {
            throw new IllegalArgumentException("maxPixels must be >= 1, got " + maxPixels);
        }
        if (!Files.exists(file)) {
            throw new IOException("cannot read image " + file + ": file does not exist");
        }
        if (Files.isDirectory(file)) {
            throw new IOException("cannot read image " + file + ": it is a directory");
        }
        long size = Files.size(file);
        if (size == 0) {
            throw new IOException("cannot read image " + file + ": file is empty (0 bytes)");
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                throw new IOException("cannot read image " + file + ": no ImageIO stream for this file");
            }
            return decode(in, file.toString(), size, maxPixels);
        }
    }

    /**
     * Reads the first image held in memory (e.g. an HTTP upload) and applies its EXIF orientation, with the same
     * checks and messages as {@link #read(Path, long)}.
     *
     * @param data      encoded image bytes (JPEG, PNG, BMP, GIF, PNM, ...)
     * @param name      how the image is named in error messages, e.g. {@code "part 'a'"}
     * @param maxPixels largest accepted {@code width · height}, checked from the header before decoding
     * @return the decoded image, upright; at least 1×1
     * @throws IOException              naming the image and the problem: empty, not an image of a supported
     *                                  format, truncated or corrupt, or more than {@code maxPixels} pixels
     * @throws IllegalArgumentException if {@code maxPixels < 1}
     */
    public static BufferedImage read(byte[] data, String name, long maxPixels) throws IOException {
        if (maxPixels < 1) {
            throw new IllegalArgumentException("maxPixels must be >= 1, got " + maxPixels);
        }
        if (data.length == 0) {
            throw new IOException("cannot read image " + name + ": it is empty (0 bytes)");
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(data))) {
            if (in == null) {
                throw new IOException("cannot read image " + name + ": no ImageIO stream for in-memory data");
            }
            return decode(in, name, data.length, maxPixels);
        }
    }

    private static BufferedImage decode(ImageInputStream in, String what, long size, long maxPixels)
            throws IOException {
        Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
        if (!readers.hasNext()) {
            throw new IOException("cannot read image " + what + ": not an image in a supported format ("
                    + size + " bytes; supported: " + String.join(",", ImageIO.getReaderFormatNames()) + ")");
        }
        ImageReader reader = readers.next();
        List<String> warnings = new ArrayList<>();
        try {
            reader.setInput(in, true, false);
            reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
            long w;
            long h;
            try {
                w = reader.getWidth(0);
                h = reader.getHeight(0);
            } catch (IOException | RuntimeException e) {
                throw new IOException("cannot read image " + what + ": corrupt or truncated header ("
                        + reader.getFormatName() + "): " + e.getMessage(), e);
            }
            if (w < 1 || h < 1) {
                throw new IOException("cannot read image " + what + ": header declares " + w + "x" + h);
            }
            if (w * h > maxPixels) {
                throw new IOException(String.format(Locale.ROOT,
                        "cannot read image %s: too large, header declares %dx%d = %.1f MP, limit is %.1f MP",
                        what, w, h, w * h / 1e6, maxPixels / 1e6));
            }
            int orientation = exifOrientation(reader);
            BufferedImage img;
            try {
                ImageReadParam param = reader.getDefaultReadParam();
                img = reader.read(0, param);
            } catch (IOException | RuntimeException e) {
                throw new IOException("cannot read image " + what + ": corrupt or truncated "
                        + reader.getFormatName() + " data: " + e.getMessage(), e);
            }
            for (String warning : warnings) {
                String lw = warning.toLowerCase(Locale.ROOT);
                if (lw.contains("premature") || lw.contains("truncat") || lw.contains("end of")) {
                    throw new IOException("cannot read image " + what + ": truncated " + reader.getFormatName()
                            + " data (" + warning + ")");
                }
                LOG.warn("{}: decoder warning: {}", what, warning);
            }
            return orient(greyToRgb(img), orientation);
        } finally {
            reader.dispose();
        }
    }

    /**
     * EXIF orientation 1..8 from the standard metadata tree, 1 when absent or unreadable. TwelveMonkeys maps the
     * EXIF tag to {@code Dimension/ImageOrientation}; this maps it back.
     */
    static int exifOrientation(ImageReader reader) {
        try {
            IIOMetadata md = reader.getImageMetadata(0);
            if (md == null || !md.isStandardMetadataFormatSupported()) {
                return 1;
            }
            Node root = md.getAsTree("javax_imageio_1.0");
            for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (!"Dimension".equals(n.getNodeName())) {
                    continue;
                }
                for (Node c = n.getFirstChild(); c != null; c = c.getNextSibling()) {
                    if ("ImageOrientation".equals(c.getNodeName()) && c.getAttributes() != null) {
                        Node v = c.getAttributes().getNamedItem("value");
                        return v == null ? 1 : orientationCode(v.getNodeValue());
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("no readable orientation metadata: {}", e.toString());
        }
        return 1;
    }

    /** Standard-metadata orientation name to EXIF orientation code (as written by TwelveMonkeys). */
    static int orientationCode(String name) {
        return switch (name) {
            case "FlipH" -> 2;
            case "Rotate180" -> 3;
            case "FlipV" -> 4;
            case "FlipVRotate90" -> 5;
            case "Rotate270" -> 6;
            case "FlipHRotate90" -> 7;
            case "Rotate90" -> 8;
            default -> 1;
        };
    }

    /**
     * Expands a one-band grey image to TYPE_INT_RGB by replicating the stored value (v → v,v,v), as PIL and OpenCV
     * do. Without this, {@link BufferedImage#getRGB} treats Java's linear grey colour space as linear light and
     * brightens mid-greys (stored 128 reads back as 188).
     *
     * @return {@code img} itself unless it has a single grey band
     */
    static BufferedImage greyToRgb(BufferedImage img) {
        if (img.getColorModel().getColorSpace().getType() != ColorSpace.TYPE_GRAY
                || img.getRaster().getNumBands() != 1) {
            return img;
        }
        int w = img.getWidth();
        int h = img.getHeight();
        int bits = img.getColorModel().getComponentSize(0);
        Raster r = img.getRaster();
        int[] row = new int[w];
        int[] rgb = new int[w];
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            r.getSamples(0, y, w, 1, 0, row);
            for (int x = 0; x < w; x++) {
                int v = bits == 8 ? row[x] : (int) Math.round(row[x] * 255.0 / ((1 << bits) - 1));
                rgb[x] = (v << 16) | (v << 8) | v;
            }
            out.setRGB(0, y, w, 1, rgb, 0, w);
        }
        return out;
    }

    /**
     * Applies an EXIF orientation so that the image displays upright.
     *
     * @param img         stored image, {@code w × h}
     * @param orientation EXIF code 1..8; 5..8 return an {@code h × w} image
     * @return {@code img} itself for code 1 (or unknown codes), else a new TYPE_INT_RGB/ARGB image
     */
    static BufferedImage orient(BufferedImage img, int orientation) {
        if (orientation < 2 || orientation > 8) {
            return img;
        }
        int w = img.getWidth();
        int h = img.getHeight();
        boolean swap = orientation >= 5;
        int ow = swap ? h : w;
        int oh = swap ? w : h;
        int type = img.getColorModel().hasAlpha() ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB;
        BufferedImage out = new BufferedImage(ow, oh, type);
        int[] src = img.getRGB(0, 0, w, h, null, 0, w);
        int[] dst = new int[ow * oh];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                int sx;
                int sy;
                switch (orientation) {
                    case 2 -> { sx = w - 1 - x; sy = y; }
                    case 3 -> { sx = w - 1 - x; sy = h - 1 - y; }
                    case 4 -> { sx = x; sy = h - 1 - y; }
                    case 5 -> { sx = y; sy = x; }
                    case 6 -> { sx = y; sy = h - 1 - x; }
                    case 7 -> { sx = w - 1 - y; sy = h - 1 - x; }
                    default -> { sx = w - 1 - y; sy = x; } // 8
                }
                dst[y * ow + x] = src[sy * w + sx];
            }
        }
        out.setRGB(0, 0, ow, oh, dst, 0, ow);
        return out;
    }
}
