package io.spherekit.core.eval;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * A list of LFW-style verification pairs with their 10-fold assignment.
 *
 * <p>Formats read (whitespace-separated, blank lines ignored):
 * <ul>
 *   <li>{@code pairs.txt}: header {@code "F N"} (LFW: {@code 10 300}), then F folds, each N same-person lines
 *       {@code name i j} followed by N different-person lines {@code name1 i name2 j}. Folds are the file's own.</li>
 *   <li>{@code pairsDevTest.txt}, {@code pairsDevTrain.txt}: header {@code "N"}, then N same lines, then N
 *       different lines. Folds: the k-th genuine pair (0-based, file order) goes to fold {@code floor(10·k/N)} and
 *       likewise for impostor pairs, so each of the 10 folds holds an equal share (±1) of each kind.</li>
 * </ul>
 * Image indices are 1-based; the path of {@code name i} is {@code imageRoot/name/name_%04d.jpg}.
 *
 * <p>Immutable.
 */
public final class PairList {

    /** Number of folds assigned to a flat ({@code "N"}-header) list. */
    public static final int FLAT_FOLDS = 10;

    /** What to do with pairs whose image files do not exist. */
    public enum MissingImages {
        /** Throw an {@link IOException} naming the missing images. */
        FAIL,
        /** Drop those pairs and count them ({@link #skippedPairs()}, {@link #missingImages()}). */
        SKIP
    }

    /**
     * One pair.
     *
     * @param first   path of the first image
     * @param second  path of the second image
     * @param genuine true for a same-person pair
     * @param fold    fold index, 0-based
     * @param line    1-based line number in the pairs file
     */
    public record Pair(Path first, Path second, boolean genuine, int fold, int line) {
    }

    private final Path source;
    private final List<Pair> pairs;
    private final int folds;
    private final int skippedPairs;
    private final List<Path> missingImages;

    private PairList(Path source, List<Pair> pairs, int folds, int skippedPairs, List<Path> missingImages) {
        this.source = source;
        this.pairs = List.copyOf(pairs);
        this.folds = folds;
        this.skippedPairs = skippedPairs;
        this.missingImages = List.copyOf(missingImages);
    }

    /** Reads a pairs file and fails if an image is missing; see {@link #read(Path, Path, MissingImages)}. */
    public static PairList read(Path pairsFile, Path imageRoot) throws IOException {
        return read(pairsFile, imageRoot, MissingImages.FAIL);
    }

    /**
     * Reads a pairs file.
     *
     * @param pairsFile LFW pair list ({@code pairs.txt}, {@code pairsDevTest.txt}, {@code pairsDevTrain.txt})
     * @param imageRoot directory holding {@code <name>/<name>_NNNN.jpg}, e.g. {@code lfw-deepfunneled}
     * @param missing   policy for pairs whose image files do not exist
     * @return the pairs in file order
     * @throws IOException if the file cannot be read, is malformed (the message names the file and line), or
     *                     (policy FAIL) images are missing (the message names them)
     */
    public static PairList read(Path pairsFile, Path imageRoot, MissingImages missing) throws IOException {
        Objects.requireNonNull(missing, "missing");
        if (!Files.isRegularFile(pairsFile)) {
            throw new IOException("pairs file " + pairsFile + " does not exist or is not a file");
        }
        List<String> lines = Files.readAllLines(pairsFile, StandardCharsets.UTF_8);
        int li = 0;
        while (li < lines.size() && lines.get(li).isBlank()) {
            li++;
        }
        if (li == lines.size()) {
            throw new IOException(pairsFile + ": empty pairs file");
        }
        String[] header = lines.get(li).strip().split("\\s+");
        int headerLine = li + 1;
        int folds;
        int perKind;
        boolean ownFolds;
        try {
            if (header.length == 2) {
                folds = Integer.parseInt(header[0]);
                perKind = Integer.parseInt(header[1]);
                ownFolds = true;
            } else if (header.length == 1) {
                folds = FLAT_FOLDS;
                perKind = Integer.parseInt(header[0]);
                ownFolds = false;
            } else {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new IOException(pairsFile + ":" + headerLine + ": expected a header 'folds perFold' (pairs.txt) or "
                    + "'count' (pairsDevTest.txt), got '" + lines.get(li).strip() + "'");
        }
        if (folds < 1 || perKind < 1 || (!ownFolds && perKind < FLAT_FOLDS)) {
            throw new IOException(pairsFile + ":" + headerLine + ": header values must be positive"
                    + (ownFolds ? "" : " and the count at least " + FLAT_FOLDS) + ", got '" + lines.get(li).strip()
                    + "'");
        }
        List<Pair> all = new ArrayList<>();
        int blocks = ownFolds ? folds : 1;
        int expectedTotal = 2 * perKind * blocks;
        li++;
        for (int block = 0; block < blocks; block++) {
            for (int kind = 0; kind < 2; kind++) {
                boolean genuine = kind == 0;
                for (int k = 0; k < perKind; k++) {
                    while (li < lines.size() && lines.get(li).isBlank()) {
                        li++;
                    }
                    if (li >= lines.size()) {
                        throw new IOException(pairsFile + ": ends after " + all.size() + " pairs, header line "
                                + headerLine + " promises " + expectedTotal);
                    }
                    int fold = ownFolds ? block : (int) ((long) FLAT_FOLDS * k / perKind);
                    all.add(parse(pairsFile, li + 1, lines.get(li), genuine, fold, imageRoot));
                    li++;
                }
            }
        }
        while (li < lines.size() && lines.get(li).isBlank()) {
            li++;
        }
        if (li < lines.size()) {
            throw new IOException(pairsFile + ":" + (li + 1) + ": unexpected extra line after the " + expectedTotal
                    + " pairs promised by the header: '" + lines.get(li).strip() + "'");
        }
        return checkImages(pairsFile, all, folds, missing);
    }

    private static Pair parse(Path file, int lineNo, String line, boolean genuine, int fold, Path root)
            throws IOException {
        String[] t = line.strip().split("\\s+");
        String expected = genuine ? "a same-person line 'name i j'" : "a different-person line 'name1 i name2 j'";
        if (t.length != (genuine ? 3 : 4)) {
            throw new IOException(file + ":" + lineNo + ": expected " + expected + ", got '" + line.strip() + "'");
        }
        try {
            if (genuine) {
                return new Pair(image(root, t[0], index(t[1])), image(root, t[0], index(t[2])), true, fold, lineNo);
            }
            return new Pair(image(root, t[0], index(t[1])), image(root, t[2], index(t[3])), false, fold, lineNo);
        } catch (NumberFormatException e) {
            throw new IOException(file + ":" + lineNo + ": expected " + expected + " with positive integer image "
                    + "numbers, got '" + line.strip() + "'");
        }
    }

    private static int index(String s) {
        int i = Integer.parseInt(s);
        if (i < 1) {
            throw new NumberFormatException(s);
        }
        return i;
    }

    private static Path image(Path root, String name, int i) {
        return root.resolve(name).resolve(String.format(Locale.ROOT, "%s_%04d.jpg", name, i));
    }

    private static PairList checkImages(Path file, List<Pair> all, int folds, MissingImages policy)
            throws IOException {
        Set<Path> missing = new LinkedHashSet<>();
        Set<Path> seen = new LinkedHashSet<>();
        for (Pair p : all) {
            for (Path img : List.of(p.first(), p.second())) {
                if (seen.add(img) && !Files.isRegularFile(img)) {
                    missing.add(img);
                }
            }
        }
        if (missing.isEmpty()) {
            return new PairList(file, all, folds, 0, List.of());
        }
        if (policy == MissingImages.FAIL) {
            List<Path> shown = new ArrayList<>(missing).subList(0, Math.min(5, missing.size()));
            throw new IOException(file + ": " + missing.size() + " image(s) missing, e.g. " + shown
                    + " (use skip-missing to drop those pairs and count them)");
        }
        List<Pair> kept = new ArrayList<>();
        for (Pair p : all) {
            if (!missing.contains(p.first()) && !missing.contains(p.second())) {
                kept.add(p);
            }
        }
        return new PairList(file, kept, folds, all.size() - kept.size(), new ArrayList<>(missing));
    }

    /** @return the pairs, in file order */
    public List<Pair> pairs() {
        return pairs;
    }

    /** @return number of pairs kept */
    public int size() {
        return pairs.size();
    }

    /** @return the number of folds (10 for LFW lists) */
    public int folds() {
        return folds;
    }

    /** @return pairs dropped because an image was missing (policy SKIP), else 0 */
    public int skippedPairs() {
        return skippedPairs;
    }

    /** @return the missing image paths (policy SKIP), in first-seen order */
    public List<Path> missingImages() {
        return missingImages;
    }

    /** @return the pairs file */
    public Path source() {
        return source;
    }

    /** @return every distinct image of the kept pairs, in first-seen order */
    public List<Path> distinctImages() {
        Set<Path> s = new LinkedHashSet<>();
        for (Pair p : pairs) {
            s.add(p.first());
            s.add(p.second());
        }
        return Collections.unmodifiableList(new ArrayList<>(s));
    }

    /** @return the number of genuine (same-person) pairs kept */
    public int genuineCount() {
        return (int) pairs.stream().filter(Pair::genuine).count();
    }

    /** @return per-pair labels, in order (true = same person) */
    public boolean[] genuine() {
        boolean[] g = new boolean[pairs.size()];
        for (int i = 0; i < g.length; i++) {
            g[i] = pairs.get(i).genuine();
        }
        return g;
    }

    /** @return per-pair fold indices, in order */
    public int[] foldIndices() {
        int[] f = new int[pairs.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = pairs.get(i).fold();
        }
        return f;
    }
}
