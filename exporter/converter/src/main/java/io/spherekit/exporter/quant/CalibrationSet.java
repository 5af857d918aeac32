package io.spherekit.exporter.quant;

import io.spherekit.core.eval.PairList;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The calibration images: a folder (walked recursively for {@code .jpg/.jpeg/.png/.bmp}, sorted by relative path)
 * or an LFW pair list (its distinct images, in first-use order, under an image root), thinned to {@code count}
 * evenly spaced images ({@code index = floor(k · total / count)}).
 *
 * @param name   what the model's metadata records: the folder's or list's file name (never a path)
 * @param source the folder or list as given (for error messages)
 * @param files  the selected images
 * @param sha256 SHA-256 over, per selected image in order, its path relative to the folder (or image root) in UTF-8,
 *               a newline, its byte length in decimal, a newline and its bytes: independent of where the folder is
 */
public record CalibrationSet(String name, Path source, List<Path> files, String sha256) {

    /**
     * @param source    folder of images, or a pairs file ({@code pairs.txt} format)
     * @param imageRoot for a pairs file: the folder holding {@code <name>/<name>_NNNN.jpg}; null = the
     *                  {@code lfw-deepfunneled} folder next to the pairs file
     * @param count     images to use, {@code >= 1} (fewer when the source has fewer)
     * @throws IOException naming the source when it is missing, unreadable or holds no image
     */
    public static CalibrationSet open(Path source, Path imageRoot, int count) throws IOException {
        if (count < 1) {
            throw new IllegalArgumentException("calibration count must be >= 1, got " + count);
        }
        Path root;
        List<Path> all = new ArrayList<>();
        if (Files.isDirectory(source)) {
            root = source;
            try (Stream<Path> s = Files.walk(source)) {
                s.filter(Files::isRegularFile).filter(CalibrationSet::isImage)
                        .map(p -> source.relativize(p)).sorted().forEach(p -> all.add(source.resolve(p)));
            }
        } else if (Files.isRegularFile(source)) {
            root = imageRoot != null ? imageRoot
                    : source.toAbsolutePath().getParent().resolve("lfw-deepfunneled");
            all.addAll(PairList.read(source, root).distinctImages());
        } else {
            throw new IOException("calibration set " + source + " does not exist (expected a folder of face images or a pair list)");
        }
        if (all.isEmpty()) {
            throw new IOException("calibration set " + source + " holds no image (.jpg, .jpeg, .png, .bmp)");
        }
        List<Path> picked = new ArrayList<>();
        int n = Math.min(count, all.size());
        for (int k = 0; k < n; k++) {
            picked.add(all.get((int) ((long) k * all.size() / n)));
        }
        return new CalibrationSet(source.toAbsolutePath().normalize().getFileName().toString(), source,
                List.copyOf(picked), hash(root, picked));
    }

    private static boolean isImage(Path p) {
        String f = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return f.endsWith(".jpg") || f.endsWith(".jpeg") || f.endsWith(".png") || f.endsWith(".bmp");
    }

    static String hash(Path root, List<Path> files) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        Path r = root.toAbsolutePath().normalize();
        byte[] buf = new byte[1 << 16];
        for (Path f : files) {
            Path abs = f.toAbsolutePath().normalize();
            String rel = (abs.startsWith(r) ? r.relativize(abs) : abs.getFileName()).toString().replace('\\', '/');
            md.update(rel.getBytes(StandardCharsets.UTF_8));
            md.update((byte) '\n');
            md.update(Long.toString(Files.size(f)).getBytes(StandardCharsets.UTF_8));
            md.update((byte) '\n');
            try (InputStream in = Files.newInputStream(f)) {
                int k;
                while ((k = in.read(buf)) > 0) {
                    md.update(buf, 0, k);
                }
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
