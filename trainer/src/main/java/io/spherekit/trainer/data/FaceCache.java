package io.spherekit.trainer.data;

import java.io.EOFException;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.align.AlignmentTemplate;
import io.spherekit.core.io.AtomicFiles;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.IntConsumer;

/**
 * On-disk cache of a decoded {@link FaceDataset}: uint8 crops, so a second run does no JPEG work.
 *
 * <p>The cache file is keyed by a SHA-256 over the format version, the preprocessing definition, the margin and
 * every image's path, size and modification time, so a change to the data or to the preprocessing can never
 * reuse a stale cache. Files are written atomically ({@link AtomicFiles}); a corrupt or mismatching file is
 * ignored with a message and rebuilt.
 *
 * <p>Format ({@code DataOutputStream}, big-endian): magic {@code "SKFC"}, version 1, key (UTF), identity count and
 * names (UTF), image count, skipped count, stored height and width, then per image: label, path (UTF), pixels;
 * then the number of skip reasons and per reason: name (UTF), file count, paths (UTF).
 *
 * <p>With {@code --align detect} the key also covers the template and the landmarks file's SHA-256.
 */
public final class FaceCache {
    private static final int MAGIC = 0x534B4643; // "SKFC"
    /** Part of the key: 2 since images are decoded by the runtime's {@code Images.read} (truncated JPEGs refused). */
    private static final int DECODER = 2;
    /** 2: the skipped files are stored by reason; the key covers the alignment. */
    private static final int VERSION = 2;

    private FaceCache() {
    }

    /** The cache key of a dataset definition. */
    public static String key(List<FaceDataset.Identity> ids, Preprocessing pre, int margin) throws IOException {
        return key(ids, pre, margin, null, null);
    }

    /** The cache key of a dataset definition aligned with {@code landmarks} onto {@code template} (null: crop). */
    public static String key(List<FaceDataset.Identity> ids, Preprocessing pre, int margin, Landmarks landmarks,
                             AlignmentTemplate template) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(("spherekit-face-cache v" + VERSION + "|decoder " + DECODER + "|" + pre + "|margin=" + margin)
                    .getBytes(StandardCharsets.UTF_8));
            if (landmarks != null) {
                md.update(("|align=detect|" + template + "|landmarks=" + landmarks.fileSha256())
                        .getBytes(StandardCharsets.UTF_8));
            }
            for (FaceDataset.Identity id : ids) {
                md.update(("\n#" + id.name()).getBytes(StandardCharsets.UTF_8));
                for (Path p : id.unsupported()) {
                    md.update(("\n?" + p.toAbsolutePath().normalize()).getBytes(StandardCharsets.UTF_8));
                }
                for (Path p : id.images()) {
                    md.update(("\n" + p.toAbsolutePath().normalize() + "|" + Files.size(p) + "|"
                            + Files.getLastModifiedTime(p).toMillis()).getBytes(StandardCharsets.UTF_8));
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Loads the dataset from {@code cacheDir} when a matching cache exists, else decodes it and writes the cache.
     *
     * @param cacheDir null = no caching
     */
    public static FaceDataset loadOrBuild(List<FaceDataset.Identity> ids, Preprocessing pre, int margin, Path cacheDir,
                                          int threads, boolean failOnCorrupt, IntConsumer progress, PrintStream log)
            throws IOException {
        return loadOrBuild(ids, pre, margin, cacheDir, threads, failOnCorrupt, progress, log, null, null);
    }

    /**
     * As {@link #loadOrBuild(List, Preprocessing, int, Path, int, boolean, IntConsumer, PrintStream)}, aligned
     * with {@code landmarks} onto {@code template} ({@link FaceDataset#load(List, Preprocessing, int, int, boolean,
     * IntConsumer, Landmarks, AlignmentTemplate)}); null landmarks = the fixed crop.
     */
    public static FaceDataset loadOrBuild(List<FaceDataset.Identity> ids, Preprocessing pre, int margin, Path cacheDir,
                                          int threads, boolean failOnCorrupt, IntConsumer progress, PrintStream log,
                                          Landmarks landmarks, AlignmentTemplate template) throws IOException {
        if (cacheDir == null) {
            return FaceDataset.load(ids, pre, margin, threads, failOnCorrupt, progress, landmarks, template);
        }
        String key = key(ids, pre, margin, landmarks, template);
        Path file = file(cacheDir, key);
        if (Files.isRegularFile(file)) {
            try {
                FaceDataset d = read(file, key, pre, margin);
                if (failOnCorrupt && d.skipped() > 0) {
                    // the cache only counts them: decode again so the first one is named in the error
                    log.println("cache: " + file + " records " + d.skipped() + " undecodable image(s); decoding "
                            + "again to name them (--fail-on-corrupt)");
                    return FaceDataset.load(ids, pre, margin, threads, true, progress, landmarks, template);
                }
                log.println("cache: loaded " + d.size() + " decoded images from " + file);
                return d;
            } catch (IOException e) {
                log.println("cache: ignoring " + file + " (" + e.getMessage() + "); rebuilding");
            }
        }
        FaceDataset d = FaceDataset.load(ids, pre, margin, threads, failOnCorrupt, progress, landmarks, template);
        try {
            write(d, key, file);
            log.println("\ncache: wrote " + file);
        } catch (IOException e) {
            log.println("\ncache: could not write " + file + " (" + e.getMessage() + "); continuing without it");
        }
        return d;
    }

    /** The cache file of {@code key} in {@code cacheDir}: {@code faces-<first 16 hex digits of the key>.bin}. */
    static Path file(Path cacheDir, String key) {
        return cacheDir.resolve("faces-" + key.substring(0, 16) + ".bin");
    }

    static void write(FaceDataset d, String key, Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        AtomicFiles.write(file, stream -> {
            DataOutputStream out = new DataOutputStream(stream);
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            out.writeUTF(key);
            out.writeInt(d.numClasses());
            for (String n : d.identities()) {
                out.writeUTF(n);
            }
            out.writeInt(d.size());
            out.writeInt(d.skipped());
            int h = d.preprocessing().height() + 2 * d.margin();
            int w = d.preprocessing().width() + 2 * d.margin();
            out.writeInt(h);
            out.writeInt(w);
            for (int i = 0; i < d.size(); i++) {
                out.writeInt(d.label(i));
                out.writeUTF(d.file(i).toString());
                out.write(d.pixels(i));
            }
            out.writeInt(d.skippedFiles().size());
            for (Map.Entry<String, List<String>> e : d.skippedFiles().entrySet()) {
                out.writeUTF(e.getKey());
                out.writeInt(e.getValue().size());
                for (String f : e.getValue()) {
                    out.writeUTF(f);
                }
            }
            out.flush();
        });
    }

    static FaceDataset read(Path file, String key, Preprocessing pre, int margin) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 20))) {
            if (in.readInt() != MAGIC) {
                throw new IOException("not a SphereKit face cache");
            }
            int v = in.readInt();
            if (v != VERSION) {
                throw new IOException("cache format " + v + ", expected " + VERSION);
            }
            if (!in.readUTF().equals(key)) {
                throw new IOException("key mismatch (data or preprocessing changed)");
            }
            int nIds = in.readInt();
            List<String> names = new ArrayList<>(nIds);
            for (int i = 0; i < nIds; i++) {
                names.add(in.readUTF());
            }
            int n = in.readInt();
            in.readInt(); // skipped count (the reasons below hold the files)
            int h = in.readInt();
            int w = in.readInt();
            if (h != pre.height() + 2 * margin || w != pre.width() + 2 * margin || n < 0 || nIds < 1) {
                throw new IOException("header does not match the requested preprocessing");
            }
            int[] labels = new int[n];
            byte[][] px = new byte[n][];
            List<Path> files = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                labels[i] = in.readInt();
                if (labels[i] < 0 || labels[i] >= nIds) {
                    throw new IOException("corrupt label at image " + i);
                }
                files.add(Path.of(in.readUTF()));
                px[i] = in.readNBytes(h * w * 3);
                if (px[i].length != h * w * 3) {
                    throw new IOException("truncated at image " + i);
                }
            }
            int reasons = in.readInt();
            if (reasons < 0) {
                throw new IOException("corrupt skip list");
            }
            SortedMap<String, List<String>> skipped = new TreeMap<>();
            for (int r = 0; r < reasons; r++) {
                String reason = in.readUTF();
                int k = in.readInt();
                if (k < 0) {
                    throw new IOException("corrupt skip list");
                }
                List<String> fs = new ArrayList<>(k);
                for (int i = 0; i < k; i++) {
                    fs.add(in.readUTF());
                }
                skipped.put(reason, fs);
            }
            return new FaceDataset(names, labels, px, files, pre, margin, FaceDataset.freeze(skipped));
        } catch (EOFException e) {
            throw new IOException("truncated cache file", e);
        }
    }
}
