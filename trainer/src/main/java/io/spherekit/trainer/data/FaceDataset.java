package io.spherekit.trainer.data;

import io.spherekit.core.Images;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.align.AlignmentTemplate;
import io.spherekit.core.align.FaceAligner;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import java.util.stream.Stream;

/**
 * A labelled face dataset, decoded once and held as cropped, resized uint8 RGB ({@link Preprocessing#cropResize}),
 * so that epochs after loading do no JPEG work. 6671 LFW images at 112×96 take 215 MB.
 *
 * <p>Sources: a person-per-folder directory ({@code root/<identity>/<image>}, any format {@link Images#read}
 * decodes: {@link Images#readableSuffixes()}; other files are counted as {@value #UNSUPPORTED}), optionally
 * restricted to the
 * people listed in an LFW people file ({@code peopleDevTrain.txt}: a count line, then {@code name\tcount}).
 */
public final class FaceDataset {
    private final List<String> identities;
    private final int[] labels;
    private final byte[][] pixels;
    private final List<Path> files;
    private final Preprocessing preprocessing;
    private final int margin;
    private final SortedMap<String, List<String>> skippedFiles;

    FaceDataset(List<String> identities, int[] labels, byte[][] pixels, List<Path> files,
                Preprocessing preprocessing, int margin, SortedMap<String, List<String>> skippedFiles) {
        this.identities = identities;
        this.labels = labels;
        this.pixels = pixels;
        this.files = files;
        this.preprocessing = preprocessing;
        this.margin = margin;
        this.skippedFiles = skippedFiles;
    }

    /** Skip reason: the file's suffix is not a format {@link Images#read} decodes. */
    public static final String UNSUPPORTED = "unsupported_format";
    /** Skip reason: {@link Images#read} failed (corrupt, truncated, not an image). */
    public static final String UNDECODABLE = "undecodable";

    public int size() { return labels.length; }
    public int numClasses() { return identities.size(); }
    public List<String> identities() { return identities; }
    public int label(int i) { return labels[i]; }
    public byte[] pixels(int i) { return pixels[i]; }
    public Path file(int i) { return files.get(i); }
    /** The model's preprocessing (the stored pixels are this grid grown by {@link #margin()} on every side). */
    public Preprocessing preprocessing() { return preprocessing; }
    /** Extra rows/columns stored on every side for random-crop augmentation. */
    public int margin() { return margin; }

    /**
     * Writes image {@code i} as a normalised CHW tensor: the window at {@code (margin+dy, margin+dx)} of the stored
     * pixels, {@code dy, dx ∈ [−margin, margin]}; (0, 0) is exactly the model's preprocessing.
     */
    public void tensorInto(int i, int dy, int dx, boolean flip, float[] dst, int offset) {
        preprocessing.normalizeWindowInto(pixels[i], preprocessing.height() + 2 * margin,
                preprocessing.width() + 2 * margin, margin + dy, margin + dx, flip, dst, offset);
    }
    /**
     * Writes image {@code i} augmented by {@code draw} ({@link Augmentation#render}) as a normalised CHW tensor.
     */
    public void augmentedInto(int i, Augmentation.Draw draw, float[] dst, int offset) {
        Augmentation.render(pixels[i], preprocessing.height() + 2 * margin, preprocessing.width() + 2 * margin,
                preprocessing, draw, dst, offset);
    }

    /** Images listed for training but left out (undecodable, or with {@code --align detect} no usable face). */
    public int skipped() {
        int n = 0;
        for (Map.Entry<String, List<String>> e : skippedFiles.entrySet()) {
            n += e.getKey().equals(UNSUPPORTED) ? 0 : e.getValue().size();
        }
        return n;
    }

    /**
     * Every file left out, by reason: {@value #UNSUPPORTED} (in an identity folder but of a format no image
     * reader handles), {@value #UNDECODABLE}, and with {@code --align detect} the landmarks file's reasons
     * ({@code no_face}, {@code face_too_small}, {@link Landmarks#NOT_LISTED}).
     *
     * @return reason → sorted file paths; unmodifiable
     */
    public SortedMap<String, List<String>> skippedFiles() { return skippedFiles; }

    /** @return reason → number of files, for logs and reports */
    public SortedMap<String, Integer> skippedCounts() {
        SortedMap<String, Integer> m = new TreeMap<>();
        skippedFiles.forEach((k, v) -> m.put(k, v.size()));
        return m;
    }

    /**
     * Lists the identities to train on.
     *
     * @param imageRoot  folder with one sub-folder per identity
     * @param peopleFile optional LFW people list restricting the identities (may be null)
     * @param minImages  identities with fewer images are left out (A-Softmax needs ≥ 2 per class to be useful)
     * @param maxIdentities 0 = all; otherwise the first N identities in name order (for tiny test runs)
     * @throws IOException naming the path: missing root, unreadable people file, malformed line, or no identities left
     */
    public static List<Identity> list(Path imageRoot, Path peopleFile, int minImages, int maxIdentities)
            throws IOException {
        if (!Files.isDirectory(imageRoot)) {
            throw new IOException("image root is not a directory: " + imageRoot);
        }
        List<String> names = new ArrayList<>();
        if (peopleFile != null) {
            if (!Files.isRegularFile(peopleFile)) {
                throw new IOException("people file not found: " + peopleFile);
            }
            List<String> lines = Files.readAllLines(peopleFile);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).trim();
                if (line.isEmpty()) {
                    continue;
                }
                String[] f = line.split("\\s+");
                if (f.length == 1 && i == 0) {
                    continue; // header count
                }
                if (f.length != 2) {
                    throw new IOException(peopleFile + ":" + (i + 1) + ": expected 'name count', got '" + line + "'");
                }
                names.add(f[0]);
            }
        } else {
            try (Stream<Path> s = Files.list(imageRoot)) {
                s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().forEach(names::add);
            }
        }
        names.sort(null);
        List<Identity> out = new ArrayList<>();
        int unsupportedElsewhere = 0;
        for (String name : names) {
            Path dir = imageRoot.resolve(name);
            if (!Files.isDirectory(dir)) {
                throw new IOException("identity folder missing: " + dir + (peopleFile != null ? " (listed in " + peopleFile + ")" : ""));
            }
            List<Path> imgs = new ArrayList<>();
            List<Path> other = new ArrayList<>();
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
                    (readable(p) ? imgs : other).add(p);
                }
            }
            if (imgs.size() >= minImages) {
                out.add(new Identity(name, imgs, other));
            } else {
                unsupportedElsewhere += other.size();
            }
            if (maxIdentities > 0 && out.size() == maxIdentities) {
                break;
            }
        }
        if (out.size() < 2) {
            int unsupported = unsupportedElsewhere + out.stream().mapToInt(i -> i.unsupported().size()).sum();
            throw new IOException("need at least 2 identities with >= " + minImages + " images under " + imageRoot
                    + ", found " + out.size() + (unsupported == 0 ? "" : "; " + unsupported + " file(s) of an"
                    + " unsupported format were ignored (readable: " + String.join(",", Images.readableSuffixes())
                    + ")"));
        }
        return out;
    }

    /**
     * One identity: its name, its image files, and the other files of its folder (not a readable format).
     */
    public record Identity(String name, List<Path> images, List<Path> unsupported) {
        public Identity(String name, List<Path> images) {
            this(name, images, List.of());
        }
    }

    private static boolean readable(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot >= 0 && Images.readableSuffixes().contains(n.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /**
     * Decodes and crops every image once, in parallel.
     *
     * @param progress called with the number of images done so far (may be null)
     */
    public static FaceDataset load(List<Identity> ids, Preprocessing pre, int threads, IntConsumer progress)
            throws IOException {
        return load(ids, pre, 0, threads, false, progress);
    }

    /**
     * Decodes every image once, in parallel, storing {@code pre.withMargin(margin)} crops.
     *
     * @param failOnCorrupt fail on the first undecodable image instead of skipping and counting it
     * @param margin   extra pixels per side for random-crop augmentation (clcarwin/sphereface_pytorch: 2, i.e.
     *                 112×96 windows of a 116×100 resize)
     * @param progress called with the number of images done so far (may be null)
     */
    public static FaceDataset load(List<Identity> ids, Preprocessing pre, int margin, int threads,
                                   boolean failOnCorrupt, IntConsumer progress) throws IOException {
        return load(ids, pre, margin, threads, failOnCorrupt, progress, null, null);
    }

    /**
     * Decodes every image once, in parallel: with {@code landmarks}, each image's face is warped onto
     * {@code template} grown by {@code margin} on every side ({@link FaceAligner}, the runtime's alignment), so
     * the centre window is exactly the runtime's aligned input; images the landmarks file records without a face
     * (or does not list) are left out and counted by reason. Without, the fixed crop.
     *
     * @param landmarks null for the fixed crop
     * @param template  the model input's template (its size must be {@code pre}'s), with {@code landmarks}
     */
    public static FaceDataset load(List<Identity> ids, Preprocessing pre, int margin, int threads,
                                   boolean failOnCorrupt, IntConsumer progress, Landmarks landmarks,
                                   AlignmentTemplate template) throws IOException {
        Preprocessing stored = pre.withMargin(margin);
        FaceAligner aligner = landmarks == null ? null : new FaceAligner(grown(template, pre, margin));
        String[] reasons = new String[ids.stream().mapToInt(i -> i.images().size()).sum()];
        List<Path> files = new ArrayList<>();
        List<Integer> labelList = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int c = 0; c < ids.size(); c++) {
            names.add(ids.get(c).name());
            for (Path p : ids.get(c).images()) {
                files.add(p);
                labelList.add(c);
            }
        }
        byte[][] px = new byte[files.size()][];
        AtomicInteger done = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads));
        try {
            List<Future<?>> fs = new ArrayList<>();
            int chunk = Math.max(1, files.size() / (threads * 8));
            for (int start = 0; start < files.size(); start += chunk) {
                int s0 = start;
                int e0 = Math.min(files.size(), start + chunk);
                fs.add(pool.submit(() -> {
                    for (int i = s0; i < e0; i++) {
                        Path f = files.get(i);
                        if (aligner == null) {
                            px[i] = decode(f, stored);
                            reasons[i] = px[i] == null ? UNDECODABLE : null;
                        } else {
                            Landmarks.Entry le = landmarks.get(f);
                            if (le == null || le.points() == null) {
                                reasons[i] = le == null ? Landmarks.NOT_LISTED : le.skip();
                            } else {
                                px[i] = decodeAligned(f, aligner, le.points());
                                reasons[i] = px[i] == null ? UNDECODABLE : null;
                            }
                        }
                        if (UNDECODABLE.equals(reasons[i]) && failOnCorrupt) {
                            throw new UncheckedIOException(new IOException("cannot decode image " + files.get(i)
                                    + " (--fail-on-corrupt)"));
                        }
                        int d = done.incrementAndGet();
                        if (progress != null) {
                            progress.accept(d);
                        }
                    }
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while decoding images", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof UncheckedIOException u ? u.getCause() : new IOException(c.getMessage(), c);
        } finally {
            pool.shutdownNow();
        }
        // drop undecodable images, counting them
        List<Path> keptFiles = new ArrayList<>();
        List<byte[]> keptPx = new ArrayList<>();
        List<Integer> keptLabels = new ArrayList<>();
        SortedMap<String, List<String>> skipped = new TreeMap<>();
        for (Identity id : ids) {
            for (Path p : id.unsupported()) {
                skipped.computeIfAbsent(UNSUPPORTED, k -> new ArrayList<>()).add(p.toString());
            }
        }
        for (int i = 0; i < px.length; i++) {
            if (px[i] == null) {
                skipped.computeIfAbsent(reasons[i] != null ? reasons[i] : UNDECODABLE, k -> new ArrayList<>())
                        .add(files.get(i).toString());
                continue;
            }
            keptFiles.add(files.get(i));
            keptPx.add(px[i]);
            keptLabels.add(labelList.get(i));
        }
        return new FaceDataset(names, keptLabels.stream().mapToInt(Integer::intValue).toArray(),
                keptPx.toArray(new byte[0][]), keptFiles, pre, margin, freeze(skipped));
    }

    /**
     * The images of the given identities, relabelled 0..n−1 in the given order (no pixel copies).
     *
     * @param identityIds indices into {@link #identities()}
     */
    public FaceDataset subset(int[] identityIds) {
        int[] remap = new int[identities.size()];
        Arrays.fill(remap, -1);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < identityIds.length; i++) {
            remap[identityIds[i]] = i;
            names.add(identities.get(identityIds[i]));
        }
        List<Integer> keep = new ArrayList<>();
        for (int i = 0; i < labels.length; i++) {
            if (remap[labels[i]] >= 0) {
                keep.add(i);
            }
        }
        int[] lab = new int[keep.size()];
        byte[][] px = new byte[keep.size()][];
        List<Path> fs = new ArrayList<>();
        for (int j = 0; j < keep.size(); j++) {
            int i = keep.get(j);
            lab[j] = remap[labels[i]];
            px[j] = pixels[i];
            fs.add(files.get(i));
        }
        return new FaceDataset(names, lab, px, fs, preprocessing, margin, freeze(new TreeMap<>()));
    }

    static SortedMap<String, List<String>> freeze(SortedMap<String, List<String>> m) {
        SortedMap<String, List<String>> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, v.stream().sorted().toList()));
        return Collections.unmodifiableSortedMap(out);
    }

    /**
     * {@code template} on the grid grown by {@code margin} pixels per side: same points shifted by
     * {@code margin}, size {@code (h+2m) × (w+2m)}, so its centre window is the template itself.
     */
    static AlignmentTemplate grown(AlignmentTemplate template, Preprocessing pre, int margin) {
        if (template.height() != pre.height() || template.width() != pre.width()) {
            throw new IllegalArgumentException("alignment template " + template.name() + " is " + template.height()
                    + "x" + template.width() + ", the model input is " + pre.height() + "x" + pre.width());
        }
        double[][] p = template.points();
        for (double[] q : p) {
            q[0] += margin;
            q[1] += margin;
        }
        return new AlignmentTemplate(template.name(), template.height() + 2 * margin, template.width() + 2 * margin, p);
    }

    private static byte[] decodeAligned(Path p, FaceAligner aligner, double[][] points) {
        try {
            return aligner.align(Images.read(p), points);
        } catch (IOException e) {
            System.err.println("warning: skipping " + p + ": " + e.getMessage());
            return null;
        }
    }

    /** Decodes with the runtime's {@code Images.read} (the same checks as serving: truncated JPEGs, EXIF, grey). */
    private static byte[] decode(Path p, Preprocessing pre) {
        try {
            BufferedImage img = Images.read(p);
            return pre.cropResize(img);
        } catch (IOException e) {
            System.err.println("warning: skipping " + p + ": " + e.getMessage());
            return null;
        }
    }
}
