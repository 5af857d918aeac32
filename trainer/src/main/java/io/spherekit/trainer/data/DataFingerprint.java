package io.spherekit.trainer.data;

import io.spherekit.core.ModelMetadata.TrainingData;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Describes a training set for the model metadata without any machine-local path: a name, the list used, and a
 * content hash that is the same wherever the folder lies.
 *
 * <p>The hash is SHA-256 over the images in the order of their relative paths {@code <identity>/<file>} ('/'
 * separated, sorted by {@link String#compareTo}); for each image it takes the relative path as UTF-8, a zero byte,
 * the file size as an 8-byte big-endian integer, and then every byte of the file. So it changes when an image is
 * added, removed, renamed or edited, and not when the folder is moved or copied elsewhere.
 */
public final class DataFingerprint {

    private DataFingerprint() {
    }

    /**
     * @param imageRoot     the person-per-folder root; only its folder name is recorded (e.g.
     *                      {@code lfw-deepfunneled})
     * @param peopleFile    the people list restricting identities, or null for all folders; only its file name is
     *                      recorded
     * @param minImages     the minimum images per identity used in the selection
     * @param maxIdentities 0, or the first N identities that were kept
     * @param images        the image files trained on, each {@code <root>/<identity>/<file>}
     * @throws IOException naming the image that cannot be read
     */
    public static TrainingData describe(Path imageRoot, Path peopleFile, int minImages, int maxIdentities,
                                        List<Path> images) throws IOException {
        Path rootName = imageRoot.toAbsolutePath().normalize().getFileName();
        String name = rootName == null ? "images" : rootName.toString();
        String list = (peopleFile == null ? "all identity folders" : peopleFile.getFileName().toString())
                + ", >= " + minImages + " images per identity"
                + (maxIdentities > 0 ? ", first " + maxIdentities + " identities" : "");
        return new TrainingData(name, list, sha256(images));
    }

    /**
     * The content hash defined in the class documentation.
     *
     * @return 64 lower-case hex digits
     * @throws IOException naming the image that cannot be read
     */
    public static String sha256(List<Path> images) throws IOException {
        Map<String, Path> byRelative = new TreeMap<>();
        for (Path p : images) {
            Path parent = p.toAbsolutePath().normalize().getParent();
            String rel = (parent == null || parent.getFileName() == null ? "" : parent.getFileName() + "/")
                    + p.getFileName();
            if (byRelative.put(rel, p) != null) {
                throw new IllegalArgumentException("image " + rel + " is listed twice");
            }
        }
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
        byte[] buf = new byte[1 << 16];
        for (Map.Entry<String, Path> e : byRelative.entrySet()) {
            md.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            try {
                md.update(ByteBuffer.allocate(Long.BYTES).putLong(Files.size(e.getValue())).array());
                try (InputStream in = Files.newInputStream(e.getValue())) {
                    for (int n; (n = in.read(buf)) > 0; ) {
                        md.update(buf, 0, n);
                    }
                }
            } catch (IOException x) {
                throw new IOException("cannot read training image " + e.getValue() + " to hash the data set: "
                        + x.getMessage(), x);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** The image files of {@code d}, in its order. */
    public static List<Path> files(FaceDataset d) {
        List<Path> out = new ArrayList<>(d.size());
        for (int i = 0; i < d.size(); i++) {
            out.add(d.file(i));
        }
        return out;
    }
}
