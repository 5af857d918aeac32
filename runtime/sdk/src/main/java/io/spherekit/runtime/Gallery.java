package io.spherekit.runtime;

import io.spherekit.core.ident.Identifier;
import io.spherekit.core.io.AtomicFiles;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * A 1:N identification gallery: labelled, L2-normalised face embeddings searched by cosine similarity.
 *
 * <p>Each identity (label) holds one or more embeddings. {@link #search} normalises the query {@code q}, computes
 * {@code s = M · q̂} for the {@code R × D} matrix {@code M} of stored unit rows in one matrix-vector pass
 * (accumulated in double), scores every identity by the best of its rows, {@code score(l) = max_{r ∈ l} s_r},
 * and returns the {@code k} best identities. Scores are raw cosines in [-1, 1], as {@link Similarity#cosine}.
 *
 * <p><b>File format</b> (version {@value #FORMAT_VERSION}; big-endian; strings are an int32 UTF-8 byte length
 * followed by the bytes):
 * <pre>
 *   magic          8 bytes  ASCII "SKGALLRY"
 *   version        int32    2 (1 is still read, see below)
 *   dim            int32    D, 1..65536
 *   rows           int32    R, number of embeddings, 0..2^31-1
 *   identities     int32    L, number of distinct labels, 0..R
 *   model_id       string   the model that produced the embeddings (may be empty), at most 4096 bytes
 *   preprocessing  string   version 2 only: how images became model input (may be empty = not recorded), at
 *                           most 4096 bytes; {@code Galleries.preprocessingOf(FaceEmbedder)}: input size, crop box,
 *                           channel order, mean and scale, alignment (crop / detect with its template) and
 *                           test-time flip
 *   labels         L strings, each 1..4096 bytes, distinct
 *   rows        R × (int32 label index 0..L-1, D × float32 unit-norm embedding)
 *   crc32       int64    CRC-32 of every byte above
 * </pre>
 * {@link #save} writes a temporary file next to the target, forces it to disk and renames it over the target
 * atomically, so readers never see a half-written gallery. {@link #load} checks the magic, version, ranges,
 * declared size against the file size (before allocating), the checksum, and that each row is finite with unit
 * norm; every failure is an {@link IOException} naming the file and the problem.
 *
 * <p><b>Version 1</b> (written before 2026-12-02) has no {@code preprocessing} field; it is read with an empty
 * {@link #preprocessing()} ("not recorded", which the preprocessing checks of {@code gallery add/search} and
 * {@code serve} skip, as for a version 2 file written without one) and {@link #formatVersion()} 1. Saving such a
 * gallery again writes version 2, still with the empty preprocessing: the old rows' preprocessing is unknown, and is
 * not guessed from the model in use.
 *
 * <p>Instances are immutable and thread-safe. This exact scan is the reference {@link Identifier}: the HNSW index
 * ({@code io.spherekit.index.HnswGallery}) is measured against it.
 *
 * <pre>{@code
 * Gallery.Builder b = Gallery.builder(embedder.embeddingDim());
 * b.add("alice", embedder.embed(Images.read(Path.of("alice1.jpg"))));
 * Gallery g = b.build();
 * List<Identifier.Match> top = g.search(embedder.embed(probe), 5);
 * }</pre>
 */
public final class Gallery implements Identifier {

    /** The file format version written by {@link #save}. */
    public static final int FORMAT_VERSION = 2;
    /** The previous format version, without the preprocessing field; still read by {@link #load}. */
    public static final int FORMAT_VERSION_1 = 1;
    /** Largest embedding dimension accepted. */
    public static final int MAX_DIM = 65_536;
    /** Largest label or model id, in UTF-8 bytes. */
    public static final int MAX_STRING_BYTES = 4096;

    private static final byte[] MAGIC = "SKGALLRY".getBytes(StandardCharsets.US_ASCII);
    private static final double UNIT_NORM_TOLERANCE = 1e-3;

    private final int dim;
    private final String modelId;
    private final String preprocessing;
    private final int formatVersion;
    private final List<String> labels;
    private final int[] rowLabel;
    private final float[] matrix;

    private Gallery(int dim, String modelId, String preprocessing, int formatVersion, List<String> labels,
                    int[] rowLabel, float[] matrix) {
        this.dim = dim;
        this.modelId = modelId;
        this.preprocessing = preprocessing;
        this.formatVersion = formatVersion;
        this.labels = Collections.unmodifiableList(labels);
        this.rowLabel = rowLabel;
        this.matrix = matrix;
    }

    /**
     * @param dim embedding dimension D, in [1, {@value #MAX_DIM}]
     * @return a new empty builder
     * @throws IllegalArgumentException if {@code dim} is out of range
     */
    public static Builder builder(int dim) {
        return new Builder(dim);
    }

    /**
     * Builds a gallery from labelled embeddings (label order = map iteration order).
     *
     * @param embeddings label → one or more raw embeddings, all of the same length
     * @param modelId    the model that produced them (may be empty)
     * @throws IllegalArgumentException if the map is empty, a label has no embeddings, or an embedding is invalid
     *                                  (see {@link Builder#add})
     */
    public static Gallery of(Map<String, ? extends Collection<float[]>> embeddings, String modelId) {
        Builder b = null;
        for (Map.Entry<String, ? extends Collection<float[]>> e : embeddings.entrySet()) {
            if (e.getValue().isEmpty()) {
                throw new IllegalArgumentException("label '" + e.getKey() + "' has no embeddings");
            }
            for (float[] v : e.getValue()) {
                if (b == null) {
                    b = builder(v.length).optModelId(modelId);
                }
                b.add(e.getKey(), v);
            }
        }
        if (b == null) {
            throw new IllegalArgumentException("embeddings must hold at least one label, got none");
        }
        return b.build();
    }

    /**
     * The {@code k} identities most similar to the query, best first; ties keep label insertion order.
     *
     * @param query raw embedding of length {@link #dim()} (normalised here)
     * @param k     number of identities wanted, {@code >= 1}; fewer are returned when the gallery holds fewer
     * @return at most {@code k} matches, scores non-increasing
     * @throws IllegalArgumentException if {@code k < 1}, the query length is not {@link #dim()}, or the query has
     *                                  zero norm or non-finite values
     */
    @Override
    public List<Match> search(float[] query, int k) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        if (query.length != dim) {
            throw new IllegalArgumentException("dimension mismatch: query has " + query.length
                    + " values, gallery has " + dim);
        }
        double[] q = unit(query, "query");
        int rows = rowLabel.length;
        double[] best = new double[labels.size()];
        Arrays.fill(best, Double.NEGATIVE_INFINITY);
        for (int r = 0, off = 0; r < rows; r++, off += dim) {
            double dot = 0;
            for (int j = 0; j < dim; j++) {
                dot += matrix[off + j] * q[j];
            }
            int l = rowLabel[r];
            if (dot > best[l]) {
                best[l] = dot;
            }
        }
        // min-heap of the k best label indices: worst score on top, later label loses a tie
        PriorityQueue<Integer> heap = new PriorityQueue<>(k + 1, (a, b) -> {
            int c = Double.compare(best[a], best[b]);
            return c != 0 ? c : Integer.compare(b, a);
        });
        for (int l = 0; l < best.length; l++) {
            heap.add(l);
            if (heap.size() > k) {
                heap.poll();
            }
        }
        Match[] out = new Match[heap.size()];
        for (int i = out.length - 1; i >= 0; i--) {
            int l = heap.poll();
            out[i] = new Match(labels.get(l), Math.max(-1.0, Math.min(1.0, best[l])));
        }
        return List.of(out);
    }

    /** @return D, the length of every embedding */
    @Override
    public int dim() {
        return dim;
    }

    /** @return number of stored embeddings (rows) */
    public int size() {
        return rowLabel.length;
    }

    /** @return number of distinct identities (labels) */
    @Override
    public int identityCount() {
        return labels.size();
    }

    /** @return number of stored embeddings, as {@link #size()} */
    @Override
    public long embeddingCount() {
        return rowLabel.length;
    }

    /** @return the distinct labels, in insertion order */
    public List<String> labels() {
        return labels;
    }

    /** @return the model id recorded at build time; empty when unknown */
    @Override
    public String modelId() {
        return modelId;
    }

    /**
     * @return the preprocessing recorded at build time ({@code Galleries.preprocessingOf(FaceEmbedder)}); empty when
     *         not recorded (a version 1 file, or a builder given none)
     */
    public String preprocessing() {
        return preprocessing;
    }

    /**
     * @return the format version the gallery was read from ({@value #FORMAT_VERSION_1} or {@value #FORMAT_VERSION});
     *         {@value #FORMAT_VERSION} for a gallery built in memory, which {@link #save} writes in that version
     */
    public int formatVersion() {
        return formatVersion;
    }

    /** @return a copy of row {@code r}, L2-normalised */
    public float[] embedding(int r) {
        Objects.checkIndex(r, rowLabel.length);
        return Arrays.copyOfRange(matrix, r * dim, (r + 1) * dim);
    }

    /** @return the label of row {@code r} */
    public String label(int r) {
        Objects.checkIndex(r, rowLabel.length);
        return labels.get(rowLabel[r]);
    }

    /**
     * Writes the gallery atomically in the format described in the class documentation.
     *
     * @throws IOException if the file cannot be written or the file system cannot rename atomically
     */
    public void save(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        AtomicFiles.write(file, raw -> {
            CRC32 crc = new CRC32();
            DataOutputStream out = new DataOutputStream(new CheckedOutputStream(raw, crc));
            out.write(MAGIC);
            out.writeInt(FORMAT_VERSION);
            out.writeInt(dim);
            out.writeInt(rowLabel.length);
            out.writeInt(labels.size());
            writeString(out, modelId);
            writeString(out, preprocessing);
            for (String l : labels) {
                writeString(out, l);
            }
            for (int r = 0, off = 0; r < rowLabel.length; r++, off += dim) {
                out.writeInt(rowLabel[r]);
                for (int j = 0; j < dim; j++) {
                    out.writeFloat(matrix[off + j]);
                }
            }
            out.flush();
            new DataOutputStream(raw).writeLong(crc.getValue());
        });
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    /**
     * Reads a gallery written by {@link #save}.
     *
     * @throws IOException naming the file: it does not exist, is not a gallery (bad magic), has an unsupported
     *                     version, is truncated, has trailing bytes, fails its checksum, or holds invalid values
     */
    public static Gallery load(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("gallery file " + file + " does not exist");
        }
        long fileSize = Files.size(file);
        CRC32 crc = new CRC32();
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            DataInputStream in = new DataInputStream(new CheckedInputStream(raw, crc));
            byte[] magic = new byte[MAGIC.length];
            try {
                in.readFully(magic);
            } catch (EOFException e) {
                throw corrupt(file, "not a SphereKit gallery: only " + fileSize + " bytes");
            }
            if (!Arrays.equals(magic, MAGIC)) {
                throw corrupt(file, "not a SphereKit gallery: bad magic (expected \"SKGALLRY\")");
            }
            try {
                int version = in.readInt();
                if (version != FORMAT_VERSION && version != FORMAT_VERSION_1) {
                    throw corrupt(file, "unsupported format version " + version + " (this reader supports "
                            + FORMAT_VERSION_1 + " and " + FORMAT_VERSION + ")");
                }
                int dim = in.readInt();
                int rows = in.readInt();
                int nLabels = in.readInt();
                if (dim < 1 || dim > MAX_DIM) {
                    throw corrupt(file, "dim must be in [1," + MAX_DIM + "], header says " + dim);
                }
                if (rows < 0 || nLabels < 0 || nLabels > rows) {
                    throw corrupt(file, "header declares " + rows + " rows and " + nLabels + " identities");
                }
                long rowBytes = (long) rows * (4L + 4L * dim);
                long minSize = MAGIC.length + 16 + 4 + (version == FORMAT_VERSION_1 ? 0 : 4) + 4L * nLabels
                        + rowBytes + 8;
                if (minSize > fileSize) {
                    throw corrupt(file, "truncated: header declares " + rows + " rows of " + dim + " floats (at least "
                            + minSize + " bytes) but the file has " + fileSize + " bytes");
                }
                if ((long) rows * dim > Integer.MAX_VALUE - 8) {
                    throw corrupt(file, rows + " rows of " + dim + " floats do not fit in one array");
                }
                String modelId = readString(in, file, "model id", true);
                // version 1 has no preprocessing field: not recorded
                String preprocessing = version == FORMAT_VERSION_1 ? ""
                        : readString(in, file, "preprocessing", true);
                List<String> labels = new ArrayList<>(nLabels);
                Map<String, Integer> seen = new HashMap<>();
                for (int i = 0; i < nLabels; i++) {
                    String l = readString(in, file, "label " + i, false);
                    if (seen.put(l, i) != null) {
                        throw corrupt(file, "label '" + l + "' appears twice");
                    }
                    labels.add(l);
                }
                int[] rowLabel = new int[rows];
                float[] matrix = new float[rows * dim];
                for (int r = 0, off = 0; r < rows; r++, off += dim) {
                    int l = in.readInt();
                    if (l < 0 || l >= nLabels) {
                        throw corrupt(file, "row " + r + " has label index " + l + ", expected 0.." + (nLabels - 1));
                    }
                    rowLabel[r] = l;
                    double n2 = 0;
                    for (int j = 0; j < dim; j++) {
                        float v = in.readFloat();
                        matrix[off + j] = v;
                        n2 += (double) v * v;
                    }
                    if (!Double.isFinite(n2) || Math.abs(Math.sqrt(n2) - 1) > UNIT_NORM_TOLERANCE) {
                        throw corrupt(file, String.format(Locale.ROOT, "row %d is not unit-norm (norm %.6g)",
                                r, Math.sqrt(n2)));
                    }
                }
                long expected = crc.getValue();
                long stored = new DataInputStream(raw).readLong();
                if (stored != expected) {
                    throw corrupt(file, String.format(Locale.ROOT,
                            "checksum mismatch (stored %08x, computed %08x)", stored, expected));
                }
                if (raw.read() != -1) {
                    throw corrupt(file, "trailing bytes after the checksum");
                }
                int[] counts = new int[nLabels];
                for (int l : rowLabel) {
                    counts[l]++;
                }
                for (int l = 0; l < nLabels; l++) {
                    if (counts[l] == 0) {
                        throw corrupt(file, "label '" + labels.get(l) + "' has no embeddings");
                    }
                }
                return new Gallery(dim, modelId, preprocessing, version, labels, rowLabel, matrix);
            } catch (EOFException e) {
                throw corrupt(file, "truncated: unexpected end of file (" + fileSize + " bytes)");
            }
        }
    }

    /**
     * As {@link #load(Path)}, and checks the embedding dimension.
     *
     * @param expectedDim the dimension of the model that will produce queries
     * @throws IOException as {@link #load(Path)}, or if the gallery's dimension is not {@code expectedDim}
     */
    public static Gallery load(Path file, int expectedDim) throws IOException {
        Gallery g = load(file);
        if (g.dim != expectedDim) {
            throw new IOException("gallery file " + file + " holds " + g.dim + "-d embeddings"
                    + (g.modelId.isEmpty() ? "" : " (model " + g.modelId + ")") + " but the model produces "
                    + expectedDim + "-d embeddings"
                    + (g.dim == 2 * expectedDim || expectedDim == 2 * g.dim ? " (one of the two uses test-time flip"
                    + " concat, which doubles the dimension: use the flip mode the gallery was built with)" : ""));
        }
        return g;
    }

    private static String readString(DataInputStream in, Path file, String what, boolean mayBeEmpty)
            throws IOException {
        int n = in.readInt();
        if (n < (mayBeEmpty ? 0 : 1) || n > MAX_STRING_BYTES) {
            throw corrupt(file, what + " has length " + n + ", expected " + (mayBeEmpty ? 0 : 1) + ".."
                    + MAX_STRING_BYTES + " bytes");
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static IOException corrupt(Path file, String why) {
        return new IOException("gallery file " + file + " is corrupt or not a gallery: " + why);
    }

    private static double[] unit(float[] v, String name) {
        return io.spherekit.core.Similarity.unit(v, name);
    }

    @Override
    public String toString() {
        return "Gallery[" + labels.size() + " identities, " + rowLabel.length + " embeddings, " + dim + "-d"
                + (modelId.isEmpty() ? "" : ", model " + modelId) + "]";
    }

    /**
     * Refuses a gallery whose recorded preprocessing differs from the one queries will be embedded with.
     *
     * @param file     the gallery's file, named in the error
     * @param expected the query side's preprocessing ({@code Galleries.preprocessingOf(FaceEmbedder)})
     * @throws IOException naming the file and both values when {@link #preprocessing()} is recorded and is not the
     *                     same as {@code expected} ({@code Galleries.samePreprocessing}); a gallery without a
     *                     recorded preprocessing passes
     */
    public void checkPreprocessing(Path file, String expected) throws IOException {
        if (!preprocessing.isEmpty() && !Galleries.samePreprocessing(preprocessing, expected)) {
            throw new IOException("gallery file " + file + " was built with preprocessing '" + preprocessing
                    + "', not '" + expected + "': its embeddings are not comparable (rebuild it, or use the"
                    + " preprocessing it was built with)");
        }
    }

    /** Collects labelled embeddings; not thread-safe. {@link #add} validates each embedding. */
    public static final class Builder {
        private final int dim;
        private String modelId = "";
        private String preprocessing = "";
        private final List<String> labels = new ArrayList<>();
        private final Map<String, Integer> index = new HashMap<>();
        private int[] rowLabel = new int[16];
        private float[] matrix;
        private int rows;

        private Builder(int dim) {
            if (dim < 1 || dim > MAX_DIM) {
                throw new IllegalArgumentException("dim must be in [1," + MAX_DIM + "], got " + dim);
            }
            this.dim = dim;
            this.matrix = new float[16 * dim];
        }

        /**
         * @param id the model that produced the embeddings, at most {@value #MAX_STRING_BYTES} UTF-8 bytes;
         *           default empty
         */
        public Builder optModelId(String id) {
            Objects.requireNonNull(id, "modelId");
            if (id.getBytes(StandardCharsets.UTF_8).length > MAX_STRING_BYTES) {
                throw new IllegalArgumentException("modelId must be at most " + MAX_STRING_BYTES + " UTF-8 bytes");
            }
            this.modelId = id;
            return this;
        }

        /**
         * @param p how images became model input ({@code Galleries.preprocessingOf(FaceEmbedder)}), at most
         *          {@value #MAX_STRING_BYTES} UTF-8 bytes; default empty (not recorded)
         * @throws IllegalArgumentException if it is longer
         */
        public Builder optPreprocessing(String p) {
            Objects.requireNonNull(p, "preprocessing");
            if (p.getBytes(StandardCharsets.UTF_8).length > MAX_STRING_BYTES) {
                throw new IllegalArgumentException("preprocessing must be at most " + MAX_STRING_BYTES
                        + " UTF-8 bytes");
            }
            this.preprocessing = p;
            return this;
        }

        /**
         * Adds one embedding of an identity; it is stored L2-normalised.
         *
         * @param label     identity, 1..{@value #MAX_STRING_BYTES} UTF-8 bytes
         * @param embedding raw embedding of length {@code dim}
         * @throws IllegalArgumentException naming the label, if the label is empty or too long, or the embedding
         *                                  has the wrong length, zero norm or non-finite values
         */
        public Builder add(String label, float[] embedding) {
            Objects.requireNonNull(label, "label");
            int lb = label.getBytes(StandardCharsets.UTF_8).length;
            if (lb < 1 || lb > MAX_STRING_BYTES) {
                throw new IllegalArgumentException("label must be 1.." + MAX_STRING_BYTES + " UTF-8 bytes, got "
                        + lb);
            }
            if (embedding.length != dim) {
                throw new IllegalArgumentException("embedding for '" + label + "' has " + embedding.length
                        + " values, expected " + dim);
            }
            double[] u = unit(embedding, "embedding for '" + label + "'");
            if ((long) (rows + 1) * dim > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("gallery is full: " + rows + " rows of " + dim + " floats");
            }
            if (rows == rowLabel.length) {
                int cap = (int) Math.min((long) rows * 2, (Integer.MAX_VALUE - 8) / dim);
                rowLabel = Arrays.copyOf(rowLabel, cap);
                matrix = Arrays.copyOf(matrix, cap * dim);
            }
            Integer l = index.get(label);
            if (l == null) {
                l = labels.size();
                labels.add(label);
                index.put(label, l);
            }
            rowLabel[rows] = l;
            int off = rows * dim;
            for (int j = 0; j < dim; j++) {
                matrix[off + j] = (float) u[j];
            }
            rows++;
            return this;
        }

        /** @return the number of embeddings added so far */
        public int size() {
            return rows;
        }

        /** @return an immutable gallery of everything added (may be empty) */
        public Gallery build() {
            return new Gallery(dim, modelId, preprocessing, FORMAT_VERSION, new ArrayList<>(labels),
                    Arrays.copyOf(rowLabel, rows),
                    Arrays.copyOf(matrix, rows * dim));
        }
    }
}
