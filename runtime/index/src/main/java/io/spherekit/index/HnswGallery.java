package io.spherekit.index;

import io.spherekit.core.Similarity;

import io.spherekit.core.ident.Identifier;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

import org.apache.lucene.codecs.Codec;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.FilterCodec;
import org.apache.lucene.codecs.lucene99.Lucene99HnswScalarQuantizedVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.codecs.perfield.PerFieldKnnVectorsFormat;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.SortedDocValuesField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.ConcurrentMergeScheduler;
import org.apache.lucene.index.CorruptIndexException;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexFormatTooNewException;
import org.apache.lucene.index.IndexFormatTooOldException;
import org.apache.lucene.index.IndexNotFoundException;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.PostingsEnum;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.index.SortedDocValues;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.Terms;
import org.apache.lucene.index.TermsEnum;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherFactory;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.LockObtainFailedException;
import org.apache.lucene.store.MMapDirectory;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;

/**
 * A 1:N identification gallery backed by Apache Lucene 9.12's HNSW vector index: on disk, memory-mapped, for
 * millions of face embeddings.
 *
 * <p><b>Storage.</b> A gallery is a Lucene index in its own folder ({@link MMapDirectory}: vectors and graph are read
 * through the page cache, not loaded into the heap). Each embedding is one document: the identity as an indexed
 * {@code label} term (for removal) and sorted doc value (for grouping), and the L2-normalised embedding as a
 * {@link KnnFloatVectorField} with {@link VectorSimilarityFunction#DOT_PRODUCT} (= cosine on unit vectors). The
 * vectors are stored as float32 ({@link Lucene99HnswVectorsFormat}) or, with {@link Encoding#INT7}, additionally
 * scalar-quantised to 7 bits per dimension ({@link Lucene99HnswScalarQuantizedVectorsFormat}), and the HNSW graph
 * is then built and searched on the quantised vectors. The model id, the preprocessing, the dimension and the
 * HNSW settings are stored in the Lucene commit's user data (written with the commit itself, which Lucene makes
 * atomic: a new {@code segments_N} is written, synced and renamed in), so a gallery built with one model can be
 * refused by another ({@link #modelId()}; the check lives with the embedder's owner, as for the exact gallery).
 *
 * <p><b>Search</b> ({@link #search}): the query is normalised, Lucene's HNSW search collects the {@code fanout}
 * nearest embeddings ({@code max(fanout, overfetch·k)}, the efSearch-like beam), each candidate is rescored
 * exactly against its stored float32 vector ({@code cos = Σ e_j q_j} in double, the same arithmetic as the exact
 * {@code Gallery}), candidates are grouped by identity keeping the best, and the beam is doubled while fewer than
 * {@code k} identities were found. Scores are exact cosines in [-1, 1] of the candidates found; only which
 * candidates are found is approximate (recall, measured in {@code bench/results/*-gallery-index}).
 *
 * <p><b>Changes.</b> A gallery opened writable ({@link #open(Path, boolean)}, {@link #create}) takes Lucene's
 * write lock; {@link #add} and {@link #remove} are visible to searches after {@link #refresh()} (near-real-time,
 * no disk commit) and durable after {@link #commit()}; {@link #close()} commits. Searches may run on any number of
 * threads concurrently with adds and removes ({@link SearcherManager}). Bulk building from many records uses
 * several indexing threads and Lucene's concurrent HNSW merge: see {@link #bulkBuilder}.
 *
 * <p>Errors name the folder: missing, not a Lucene index, a Lucene index that is not a SphereKit gallery, a
 * corrupt or truncated index, a newer format version, or a gallery locked by another writer.
 */
public final class HnswGallery implements Identifier, Closeable {

    /** Vector storage and graph encoding. */
    public enum Encoding {
        /** 4 bytes per dimension; graph built and searched on the float vectors. */
        FLOAT32,
        /** float32 kept for exact rescoring, plus 7-bit scalar-quantised vectors (1 byte per dimension) on which the
         * graph is built and searched. */
        INT7;

        static Encoding parse(String s, Path dir) throws IOException {
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IOException("gallery index " + dir + ": unknown vector encoding '" + s + "' in its commit"
                        + " data (this reader knows float32, int7)");
            }
        }

        /** @return the lower-case name used in files and on the command line */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Build and search settings.
     *
     * @param encoding   {@link Encoding#FLOAT32} or {@link Encoding#INT7}
     * @param maxConn    HNSW M: neighbours per node on upper levels (2·M on level 0), 2..512; default
     *                   {@value #DEFAULT_MAX_CONN}
     * @param beamWidth  HNSW efConstruction: candidates examined per insertion, 1..3200; default
     *                   {@value #DEFAULT_BEAM_WIDTH}
     * @param threads    indexing threads for {@link BulkBuilder#addAll} and HNSW merge workers, >= 1; default the
     *                   number of processors
     * @param ramBufferMb Lucene indexing RAM buffer in MB before a segment is flushed; default 1024
     * @param fanout     default HNSW search beam (number of nearest embeddings collected per query), >= 1;
     *                   default 100
     * @param overfetch  candidates per requested identity (several embeddings per identity), >= 1; default 4
     * @param searchThreads threads one query may use, one index segment per task (Lucene's
     *                   {@code IndexSearcher(reader, executor)}); 1 (default) searches every segment on the calling
     *                   thread. More than one pays off only for an index of several segments
     *                   ({@link #forceMerge(int)} to as many segments as threads)
     */
    public record Options(Encoding encoding, int maxConn, int beamWidth, int threads, double ramBufferMb, int fanout,
                          int overfetch, int searchThreads) {
        public Options {
            Objects.requireNonNull(encoding, "encoding");
            if (maxConn < 2 || maxConn > Lucene99HnswVectorsFormat.MAXIMUM_MAX_CONN) {
                throw new IllegalArgumentException("maxConn (M) must be in [2," + Lucene99HnswVectorsFormat.MAXIMUM_MAX_CONN
                        + "], got " + maxConn);
            }
            if (beamWidth < 1 || beamWidth > Lucene99HnswVectorsFormat.MAXIMUM_BEAM_WIDTH) {
                throw new IllegalArgumentException("beamWidth must be in [1," + Lucene99HnswVectorsFormat.MAXIMUM_BEAM_WIDTH
                        + "], got " + beamWidth);
            }
            if (threads < 1 || !(ramBufferMb >= 16 && ramBufferMb <= 1 << 20) || fanout < 1 || overfetch < 1
                    || searchThreads < 1) {
                throw new IllegalArgumentException("threads, fanout, overfetch and searchThreads must be >= 1 and"
                        + " ramBufferMb in [16, 1048576]; got threads=" + threads + " ramBufferMb=" + ramBufferMb
                        + " fanout=" + fanout + " overfetch=" + overfetch + " searchThreads=" + searchThreads);
            }
        }

        /** @return float32, M 32, beamWidth 200, all processors, 1024 MB, fanout 100, overfetch 4, 1 search thread */
        public static Options defaults() {
            return new Options(Encoding.FLOAT32, DEFAULT_MAX_CONN, DEFAULT_BEAM_WIDTH,
                    Runtime.getRuntime().availableProcessors(), 1024, 100, 4, 1);
        }

        public Options withSearchThreads(int t) {
            return new Options(encoding, maxConn, beamWidth, threads, ramBufferMb, fanout, overfetch, t);
        }

        public Options withEncoding(Encoding e) {
            return new Options(e, maxConn, beamWidth, threads, ramBufferMb, fanout, overfetch, searchThreads);
        }

        public Options withGraph(int m, int beam) {
            return new Options(encoding, m, beam, threads, ramBufferMb, fanout, overfetch, searchThreads);
        }

        public Options withThreads(int t) {
            return new Options(encoding, maxConn, beamWidth, t, ramBufferMb, fanout, overfetch, searchThreads);
        }

        public Options withRamBufferMb(double mb) {
            return new Options(encoding, maxConn, beamWidth, threads, mb, fanout, overfetch, searchThreads);
        }

        public Options withFanout(int f) {
            return new Options(encoding, maxConn, beamWidth, threads, ramBufferMb, f, overfetch, searchThreads);
        }

        public Options withOverfetch(int o) {
            return new Options(encoding, maxConn, beamWidth, threads, ramBufferMb, fanout, o, searchThreads);
        }
    }

    /**
     * What is stored with the index (in the commit user data).
     *
     * @param dim           embedding dimension D
     * @param modelId       id of the model that produced the embeddings (may be empty)
     * @param preprocessing description of the input preprocessing/alignment (may be empty)
     * @param encoding      vector encoding
     * @param maxConn       HNSW M
     * @param beamWidth     HNSW efConstruction
     */
    public record Metadata(int dim, String modelId, String preprocessing, Encoding encoding, int maxConn,
                           int beamWidth) {
    }

    /**
     * A size summary.
     *
     * @param identities live identities
     * @param embeddings live embeddings
     * @param deleted    removed embeddings not yet merged away
     * @param segments   Lucene segments
     * @param diskBytes  bytes of the index files on disk
     */
    public record Stats(int identities, long embeddings, long deleted, int segments, long diskBytes) {
    }

    /** One embedding of an identity, the unit of {@link BulkBuilder#addAll}. */
    public record Entry(String identity, float[] embedding) {
    }

    /** The on-disk layout version this class writes and reads. */
    public static final int FORMAT_VERSION = 1;
    /** Largest embedding dimension Lucene 9.12's HNSW formats accept. */
    public static final int MAX_DIM = 1024;

    /**
     * Default HNSW M. 32 rather than Lucene's 16: at 100k synthetic + 4,534 real LFW embeddings, M 16 / beamWidth 100
     * found the real probes' exact top-10 at recall 0.776 (beam 200) and 0.874 (beam 800); M 32 / beamWidth 200 at
     * 0.989 and 0.999, for the same time per query and a 3× slower build
     * ({@code bench/results/20261203-gallery-index-m32/}).
     */
    public static final int DEFAULT_MAX_CONN = 32;
    /** Default HNSW beamWidth (efConstruction); see {@link #DEFAULT_MAX_CONN}. */
    public static final int DEFAULT_BEAM_WIDTH = 200;
    /** Largest label, in UTF-8 bytes (as the exact gallery). */
    public static final int MAX_LABEL_BYTES = 4096;
    /** Largest search beam. */
    public static final int MAX_FANOUT = 10_000;

    static final String F_LABEL = "label";
    static final String F_VEC = "embedding";
    static final String K_KIND = "spherekit.kind";
    static final String KIND = "hnsw-gallery";
    static final String K_VERSION = "spherekit.format_version";
    static final String K_DIM = "spherekit.dim";
    static final String K_MODEL = "spherekit.model_id";
    static final String K_PRE = "spherekit.preprocessing";
    static final String K_ENC = "spherekit.encoding";
    static final String K_M = "spherekit.hnsw.m";
    static final String K_BEAM = "spherekit.hnsw.beam_width";

    private final Path dir;
    private final Directory directory;
    private final Metadata meta;
    private final IndexWriter writer; // null when read-only
    private final ExecutorService mergeExecutor; // null unless writable with threads > 1
    private final ExecutorService searchExecutor; // null unless searchThreads > 1
    private final SearcherManager searchers;
    private volatile int fanout;
    private volatile int overfetch;
    private volatile CountCache identityCount = new CountCache(null, 0);

    private record CountCache(Object readerKey, int count) {
    }

    private HnswGallery(Path dir, Directory directory, Metadata meta, IndexWriter writer, ExecutorService ex,
                        Options opts) throws IOException {
        this.dir = dir;
        this.directory = directory;
        this.meta = meta;
        this.writer = writer;
        this.mergeExecutor = ex;
        this.fanout = opts.fanout();
        this.overfetch = opts.overfetch();
        ExecutorService se = opts.searchThreads() > 1 ? Executors.newFixedThreadPool(opts.searchThreads(), r -> {
            Thread t = new Thread(r, "hnsw-search");
            t.setDaemon(true);
            return t;
        }) : null;
        SearcherFactory sf = se == null ? null : new SearcherFactory() {
            @Override
            public IndexSearcher newSearcher(IndexReader reader, IndexReader previous) {
                return new IndexSearcher(reader, se);
            }
        };
        try {
            this.searchers = writer != null ? new SearcherManager(writer, true, false, sf)
                    : new SearcherManager(directory, sf);
        } catch (IOException | RuntimeException e) {
            if (se != null) {
                se.shutdownNow();
            }
            throw e;
        }
        this.searchExecutor = se;
    }

    // ------------------------------------------------------------------ opening

    /**
     * Creates a new, empty, writable gallery in {@code dir} (created if missing; it must be empty or absent).
     *
     * @param dim           embedding dimension, 1..{@value #MAX_DIM}
     * @param modelId       the model that will produce the embeddings (may be empty)
     * @param preprocessing the preprocessing/alignment description (may be empty)
     * @throws IOException naming the folder, if it exists and is not empty, or cannot be written
     */
    public static HnswGallery create(Path dir, int dim, String modelId, String preprocessing, Options opts)
            throws IOException {
        checkDim(dim);
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(preprocessing, "preprocessing");
        if (Files.exists(dir)) {
            if (!Files.isDirectory(dir)) {
                throw new IOException("gallery index " + dir + " exists and is not a folder");
            }
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    throw new IOException("gallery index " + dir + " exists and is not empty: refusing to create a"
                            + " gallery there");
                }
            }
        }
        Files.createDirectories(dir);
        Metadata m = new Metadata(dim, modelId, preprocessing, opts.encoding(), opts.maxConn(), opts.beamWidth());
        HnswGallery g = openWriter(dir, m, opts, IndexWriterConfig.OpenMode.CREATE);
        g.commit();
        return g;
    }

    /** As {@link #open(Path, boolean, Options)} with {@link Options#defaults()}. */
    public static HnswGallery open(Path dir, boolean writable) throws IOException {
        return open(dir, writable, Options.defaults());
    }

    /**
     * Opens an existing gallery.
     *
     * @param writable take the write lock to allow {@link #add}/{@link #remove}; read-only otherwise (any number of
     *                 read-only openers, also alongside one writer, which they see at its last commit)
     * @param opts     search settings ({@link Options#fanout()}, {@link Options#overfetch()}) and, when writable,
     *                 indexing threads and RAM buffer; the encoding and graph settings are the stored ones
     * @throws IOException naming the folder: missing, not an index, not a SphereKit gallery, corrupt, or locked
     */
    public static HnswGallery open(Path dir, boolean writable, Options opts) throws IOException {
        Metadata m = readMetadata(dir);
        Options eff = opts.withEncoding(m.encoding()).withGraph(m.maxConn(), m.beamWidth());
        if (writable) {
            return openWriter(dir, m, eff, IndexWriterConfig.OpenMode.APPEND);
        }
        Directory d = new MMapDirectory(dir);
        try {
            return new HnswGallery(dir, d, m, null, null, eff);
        } catch (IOException | RuntimeException e) {
            d.close();
            throw wrap(dir, e);
        }
    }

    private static HnswGallery openWriter(Path dir, Metadata m, Options opts, IndexWriterConfig.OpenMode mode)
            throws IOException {
        ExecutorService ex = opts.threads() > 1 ? Executors.newFixedThreadPool(opts.threads(), r -> {
            Thread t = new Thread(r, "hnsw-merge");
            t.setDaemon(true);
            return t;
        }) : null;
        Directory d = new MMapDirectory(dir);
        try {
            IndexWriterConfig c = new IndexWriterConfig().setOpenMode(mode)
                    .setCodec(codec(m.encoding(), m.maxConn(), m.beamWidth(), opts.threads(), ex))
                    .setRAMBufferSizeMB(opts.ramBufferMb()).setUseCompoundFile(false).setCommitOnClose(false);
            ConcurrentMergeScheduler cms = new ConcurrentMergeScheduler();
            cms.setMaxMergesAndThreads(Math.max(2, opts.threads() + 1), Math.max(1, opts.threads()));
            c.setMergeScheduler(cms);
            IndexWriter w = new IndexWriter(d, c);
            w.setLiveCommitData(userData(m).entrySet());
            return new HnswGallery(dir, d, m, w, ex, opts);
        } catch (LockObtainFailedException e) {
            close(d, ex);
            throw new IOException("gallery index " + dir + " is locked by another writer (" + e.getMessage() + ")", e);
        } catch (IOException | RuntimeException e) {
            close(d, ex);
            throw wrap(dir, e);
        }
    }

    private static void close(Directory d, ExecutorService ex) {
        try {
            d.close();
        } catch (IOException ignored) {
            // the original failure is reported
        }
        if (ex != null) {
            ex.shutdownNow();
        }
    }

    static Codec codec(Encoding enc, int m, int beam, int threads, ExecutorService ex) {
        int workers = ex == null ? 1 : threads;
        KnnVectorsFormat f = enc == Encoding.FLOAT32
                ? new Lucene99HnswVectorsFormat(m, beam, workers, ex)
                : new Lucene99HnswScalarQuantizedVectorsFormat(m, beam, workers, 7, false, null, ex);
        // The default codec of whichever Lucene is on the class path (9.12 or 10.x), with our vector format for every
        // vector field. Segments record the per-field format's name, so a reader needs no custom codec.
        Codec base = Codec.getDefault();
        KnnVectorsFormat perField = new PerFieldKnnVectorsFormat() {
            @Override
            public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
                return f;
            }
        };
        return new FilterCodec(base.getName(), base) {
            @Override
            public KnnVectorsFormat knnVectorsFormat() {
                return perField;
            }
        };
    }

    private static Map<String, String> userData(Metadata m) {
        Map<String, String> u = new HashMap<>();
        u.put(K_KIND, KIND);
        u.put(K_VERSION, Integer.toString(FORMAT_VERSION));
        u.put(K_DIM, Integer.toString(m.dim()));
        u.put(K_MODEL, m.modelId());
        u.put(K_PRE, m.preprocessing());
        u.put(K_ENC, m.encoding().id());
        u.put(K_M, Integer.toString(m.maxConn()));
        u.put(K_BEAM, Integer.toString(m.beamWidth()));
        return u;
    }

    /**
     * @return whether {@code path} looks like a Lucene index folder (holds a {@code segments_N} file); says nothing
     * about whether it is a SphereKit gallery ({@link #readMetadata} checks that)
     */
    public static boolean looksLikeIndex(Path path) {
        if (!Files.isDirectory(path)) {
            return false;
        }
        try (Stream<Path> s = Files.list(path)) {
            return s.anyMatch(p -> p.getFileName().toString().startsWith("segments_"));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Reads what is stored with a gallery without opening its vectors.
     *
     * @throws IOException naming the folder: missing, not a Lucene index, a Lucene index without SphereKit commit
     *                     data, a newer layout version, or corrupt
     */
    public static Metadata readMetadata(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            throw new IOException("gallery index " + dir + " does not exist");
        }
        if (!Files.isDirectory(dir)) {
            throw new IOException("gallery index " + dir + " is a file, not an index folder");
        }
        Map<String, String> u;
        try (Directory d = new MMapDirectory(dir)) {
            u = SegmentInfos.readLatestCommit(d).getUserData();
        } catch (IndexNotFoundException e) {
            throw new IOException("gallery index " + dir + " is not a gallery index: no Lucene commit (segments_N)"
                    + " in the folder", e);
        } catch (IOException | RuntimeException e) {
            throw wrap(dir, e);
        }
        if (!KIND.equals(u.get(K_KIND))) {
            throw new IOException("gallery index " + dir + " is a Lucene index but not a SphereKit gallery (its commit"
                    + " data has no " + K_KIND + "=" + KIND + ")");
        }
        int version = intKey(u, K_VERSION, dir);
        if (version != FORMAT_VERSION) {
            throw new IOException("gallery index " + dir + " has layout version " + version + "; this reader supports "
                    + FORMAT_VERSION);
        }
        int dim = intKey(u, K_DIM, dir);
        if (dim < 1 || dim > MAX_DIM) {
            throw new IOException("gallery index " + dir + " is corrupt: dim " + dim + " outside [1," + MAX_DIM + "]");
        }
        String enc = u.get(K_ENC);
        if (enc == null) {
            throw new IOException("gallery index " + dir + " is corrupt: commit data lacks " + K_ENC);
        }
        return new Metadata(dim, u.getOrDefault(K_MODEL, ""), u.getOrDefault(K_PRE, ""), Encoding.parse(enc, dir),
                intKey(u, K_M, dir), intKey(u, K_BEAM, dir));
    }

    private static int intKey(Map<String, String> u, String key, Path dir) throws IOException {
        String v = u.get(key);
        try {
            return Integer.parseInt(Objects.requireNonNull(v));
        } catch (NullPointerException | NumberFormatException e) {
            throw new IOException("gallery index " + dir + " is corrupt: commit data " + key + " is '" + v
                    + "', expected an integer");
        }
    }

    private static IOException wrap(Path dir, Exception e) {
        String why;
        if (e instanceof CorruptIndexException || e instanceof EOFException) {
            why = "is corrupt or truncated";
        } else if (e instanceof IndexFormatTooNewException || e instanceof IndexFormatTooOldException) {
            why = "is corrupt or was written by an unsupported Lucene version";
        } else if (e instanceof NoSuchFileException) {
            why = "is incomplete (a file it lists is missing)";
        } else if (e instanceof AccessDeniedException) {
            why = "cannot be read (access denied)";
        } else {
            why = "cannot be opened";
        }
        return new IOException("gallery index " + dir + " " + why + ": " + e.getMessage(), e);
    }

    private static void checkDim(int dim) {
        if (dim < 1 || dim > MAX_DIM) {
            throw new IllegalArgumentException("dim must be in [1," + MAX_DIM + "] (Lucene HNSW), got " + dim);
        }
    }

    // ------------------------------------------------------------------ changes

    /**
     * Adds one embedding of an identity (stored L2-normalised); visible to searches after {@link #refresh()},
     * durable after {@link #commit()}. Thread-safe.
     *
     * @param label     identity, 1..{@value #MAX_LABEL_BYTES} UTF-8 bytes
     * @param embedding raw embedding of length {@link #dim()}
     * @throws IllegalArgumentException naming the label: empty/too long label, wrong length, zero norm, non-finite
     * @throws IllegalStateException    if the gallery was opened read-only
     * @throws IOException              if Lucene cannot write
     */
    public void add(String label, float[] embedding) throws IOException {
        requireWritable();
        writer.addDocument(document(label, embedding, meta.dim()));
    }

    static Document document(String label, float[] embedding, int dim) {
        Objects.requireNonNull(label, "label");
        byte[] lb = label.getBytes(StandardCharsets.UTF_8);
        if (lb.length < 1 || lb.length > MAX_LABEL_BYTES) {
            throw new IllegalArgumentException("label must be 1.." + MAX_LABEL_BYTES + " UTF-8 bytes, got " + lb.length);
        }
        if (embedding.length != dim) {
            throw new IllegalArgumentException("embedding for '" + label + "' has " + embedding.length
                    + " values, expected " + dim);
        }
        double[] u = unit(embedding, "embedding for '" + label + "'");
        float[] f = new float[dim];
        for (int j = 0; j < dim; j++) {
            f[j] = (float) u[j];
        }
        Document doc = new Document();
        doc.add(new StringField(F_LABEL, new BytesRef(lb), Field.Store.NO));
        doc.add(new SortedDocValuesField(F_LABEL, new BytesRef(lb)));
        doc.add(new KnnFloatVectorField(F_VEC, f, VectorSimilarityFunction.DOT_PRODUCT));
        return doc;
    }

    /**
     * Removes every embedding of an identity; visible after {@link #refresh()}, durable after {@link #commit()}.
     *
     * @return how many embeddings the identity had in the current (refreshed) view
     * @throws IllegalStateException if read-only
     */
    public long remove(String label) throws IOException {
        requireWritable();
        refresh();
        long n = count(label);
        writer.deleteDocuments(new Term(F_LABEL, label));
        return n;
    }

    /** @return how many embeddings of {@code label} the current (last refreshed) view holds */
    public long count(String label) throws IOException {
        IndexSearcher s = searchers.acquire();
        try {
            return s.count(new org.apache.lucene.search.TermQuery(new Term(F_LABEL, label)));
        } finally {
            searchers.release(s);
        }
    }

    /** Makes every add/remove so far visible to searches (near-real-time reopen; no disk commit). */
    public void refresh() throws IOException {
        searchers.maybeRefreshBlocking();
    }

    /** Writes every change durably (an atomic Lucene commit carrying the metadata) and refreshes searches. */
    public void commit() throws IOException {
        requireWritable();
        writer.setLiveCommitData(userData(meta).entrySet());
        writer.commit();
        refresh();
    }

    /**
     * Merges the index down to at most {@code maxSegments} segments (one graph per segment: fewer segments make
     * searches faster), using the merge workers, then commits.
     */
    public void forceMerge(int maxSegments) throws IOException {
        requireWritable();
        writer.forceMerge(maxSegments);
        commit();
    }

    private void requireWritable() {
        if (writer == null) {
            throw new IllegalStateException("gallery index " + dir + " was opened read-only");
        }
    }

    // ------------------------------------------------------------------ search

    /** Sets the default search beam ({@link Options#fanout()}) for later searches. */
    public void setFanout(int fanout) {
        if (fanout < 1 || fanout > MAX_FANOUT) {
            throw new IllegalArgumentException("fanout must be in [1," + MAX_FANOUT + "], got " + fanout);
        }
        this.fanout = fanout;
    }

    /** @return the default search beam */
    public int fanout() {
        return fanout;
    }

    @Override
    public List<Match> search(float[] query, int k) {
        return search(query, k, fanout);
    }

    /**
     * As {@link #search(float[], int)} with an explicit beam.
     *
     * @param fanout number of nearest embeddings HNSW collects (efSearch-like), in [1, {@value #MAX_FANOUT}]; raised
     *               to {@code overfetch·k} and doubled while fewer than {@code k} identities are found
     * @throws UncheckedIOException if the index cannot be read
     */
    public List<Match> search(float[] query, int k, int fanout) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        if (fanout < 1 || fanout > MAX_FANOUT) {
            throw new IllegalArgumentException("fanout must be in [1," + MAX_FANOUT + "], got " + fanout);
        }
        if (query.length != meta.dim()) {
            throw new IllegalArgumentException("dimension mismatch: query has " + query.length
                    + " values, gallery has " + meta.dim());
        }
        double[] q = unit(query, "query");
        float[] qf = new float[q.length];
        for (int j = 0; j < q.length; j++) {
            qf[j] = (float) q[j];
        }
        try {
            IndexSearcher s = searchers.acquire();
            try {
                int live = s.getIndexReader().numDocs();
                if (live == 0) {
                    return List.of();
                }
                int fan = (int) Math.min(Math.min(live, MAX_FANOUT), Math.max(fanout, (long) overfetch * k));
                while (true) {
                    Map<String, Double> best = collect(s, q, qf, fan);
                    if (best.size() >= k || fan >= live || fan >= MAX_FANOUT) {
                        return top(best, k);
                    }
                    fan = Math.min(Math.min(live, MAX_FANOUT), fan * 2);
                }
            } finally {
                searchers.release(s);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("gallery index " + dir + ": search failed: " + e.getMessage(), e);
        }
    }

    private Map<String, Double> collect(IndexSearcher s, double[] q, float[] qf, int fan) throws IOException {
        TopDocs td = s.search(new KnnFloatVectorQuery(F_VEC, qf, fan), fan);
        ScoreDoc[] hits = td.scoreDocs.clone();
        Arrays.sort(hits, Comparator.comparingInt(h -> h.doc));
        List<LeafReaderContext> leaves = s.getIndexReader().leaves();
        Map<String, Double> best = new HashMap<>();
        int i = 0;
        while (i < hits.length) {
            int li = ReaderUtil.subIndex(hits[i].doc, leaves);
            LeafReaderContext ctx = leaves.get(li);
            LeafReader r = ctx.reader();
            VectorCursor vv = new VectorCursor(r, F_VEC);
            SortedDocValues labels = r.getSortedDocValues(F_LABEL);
            int end = ctx.docBase + r.maxDoc();
            for (; i < hits.length && hits[i].doc < end; i++) {
                int doc = hits[i].doc - ctx.docBase;
                float[] e = vv.vector(doc);
                if (e == null || !labels.advanceExact(doc)) {
                    throw new CorruptIndexException("document " + doc + " lacks its embedding or label", dir.toString());
                }
                double dot = 0;
                for (int j = 0; j < e.length; j++) {
                    dot += e[j] * q[j];
                }
                String label = labels.lookupOrd(labels.ordValue()).utf8ToString();
                double c = Math.max(-1.0, Math.min(1.0, dot));
                best.merge(label, c, Math::max);
            }
        }
        return best;
    }

    private static List<Match> top(Map<String, Double> best, int k) {
        List<Match> all = new ArrayList<>(best.size());
        best.forEach((l, c) -> all.add(new Match(l, c)));
        all.sort(Comparator.comparingDouble(Match::score).reversed().thenComparing(Match::label));
        return List.copyOf(all.subList(0, Math.min(k, all.size())));
    }

    // ------------------------------------------------------------------ facts

    @Override
    public int dim() {
        return meta.dim();
    }

    @Override
    public String modelId() {
        return meta.modelId();
    }

    /** @return the stored preprocessing/alignment description (may be empty) */
    public String preprocessing() {
        return meta.preprocessing();
    }

    /** @return everything stored with the index */
    public Metadata metadata() {
        return meta;
    }

    /** @return the index folder */
    public Path path() {
        return dir;
    }

    @Override
    public long embeddingCount() {
        try {
            IndexSearcher s = searchers.acquire();
            try {
                return s.getIndexReader().numDocs();
            } finally {
                searchers.release(s);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Counts live identities of the current view (cached per reader view). */
    @Override
    public int identityCount() {
        try {
            IndexSearcher s = searchers.acquire();
            try {
                Object key = s.getIndexReader().getReaderCacheHelper().getKey();
                CountCache c = identityCount;
                if (c.readerKey() == key) {
                    return c.count();
                }
                Set<BytesRef> seen = new HashSet<>();
                for (LeafReaderContext ctx : s.getIndexReader().leaves()) {
                    LeafReader r = ctx.reader();
                    Bits liveDocs = r.getLiveDocs();
                    Terms terms = r.terms(F_LABEL);
                    if (terms == null) {
                        continue;
                    }
                    TermsEnum te = terms.iterator();
                    PostingsEnum pe = null;
                    for (BytesRef t = te.next(); t != null; t = te.next()) {
                        if (liveDocs == null) {
                            seen.add(BytesRef.deepCopyOf(t));
                            continue;
                        }
                        pe = te.postings(pe, PostingsEnum.NONE);
                        for (int d = pe.nextDoc(); d != DocIdSetIterator.NO_MORE_DOCS; d = pe.nextDoc()) {
                            if (liveDocs.get(d)) {
                                seen.add(BytesRef.deepCopyOf(t));
                                break;
                            }
                        }
                    }
                }
                identityCount = new CountCache(key, seen.size());
                return seen.size();
            } finally {
                searchers.release(s);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return sizes of the current view and the bytes of the folder's files */
    public Stats stats() throws IOException {
        IndexSearcher s = searchers.acquire();
        try {
            DirectoryReader r = (DirectoryReader) s.getIndexReader();
            return new Stats(identityCount(), r.numDocs(), r.numDeletedDocs(), r.leaves().size(), diskBytes(dir));
        } finally {
            searchers.release(s);
        }
    }

    /** @return total bytes of the regular files in {@code dir} (not recursive) */
    public static long diskBytes(Path dir) throws IOException {
        long n = 0;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.isRegularFile(p)) {
                    n += Files.size(p);
                }
            }
        }
        return n;
    }

    /** Commits pending changes (when writable) and releases the index. */
    @Override
    public void close() throws IOException {
        try {
            if (writer != null && writer.isOpen()) {
                commit();
                writer.close();
            }
        } finally {
            try {
                searchers.close();
            } finally {
                directory.close();
                if (mergeExecutor != null) {
                    mergeExecutor.shutdownNow();
                }
                if (searchExecutor != null) {
                    searchExecutor.shutdownNow();
                }
            }
        }
    }

    @Override
    public String toString() {
        return "HnswGallery[" + dir + ", " + meta.dim() + "-d " + meta.encoding().id() + ", M=" + meta.maxConn()
                + ", beamWidth=" + meta.beamWidth() + (meta.modelId().isEmpty() ? "" : ", model " + meta.modelId())
                + "]";
    }

    static double[] unit(float[] v, String name) {
        return Similarity.unit(v, name);
    }

    // ------------------------------------------------------------------ bulk build

    /**
     * Starts building a new gallery at {@code target} from many records, the entry point for batch jobs (e.g. the
     * Spark module): records go into a temporary folder next to the target ({@code .<name>.<pid>-<n>.tmp}), added
     * by {@link Options#threads()} indexing threads; {@link BulkBuilder#finish} merges the segments to one graph
     * with the merge workers, commits, and moves the folder to {@code target} in one rename (an existing SphereKit
     * gallery at {@code target} is moved aside first and deleted after). Until then {@code target} is untouched.
     *
     * @throws IOException if {@code target} exists and is not a SphereKit gallery index, or the folder cannot be
     *                     written
     */
    public static BulkBuilder bulkBuilder(Path target, int dim, String modelId, String preprocessing, Options opts)
            throws IOException {
        checkDim(dim);
        Path abs = target.toAbsolutePath();
        if (Files.exists(abs)) {
            if (!looksLikeIndex(abs)) {
                throw new IOException("gallery index " + target + " exists and is not a gallery index: refusing to"
                        + " replace it");
            }
            readMetadata(abs);
        }
        Files.createDirectories(abs.getParent());
        Path tmp = abs.resolveSibling("." + abs.getFileName() + "." + ProcessHandle.current().pid() + "-"
                + System.nanoTime() + ".tmp");
        HnswGallery g = create(tmp, dim, modelId, preprocessing, opts);
        return new BulkBuilder(g, abs, tmp, opts.threads());
    }

    /** Builds a new gallery from records; see {@link HnswGallery#bulkBuilder}. */
    public static final class BulkBuilder implements Closeable {
        private final HnswGallery g;
        private final Path target;
        private final Path tmp;
        private final int threads;
        private boolean done;

        private BulkBuilder(HnswGallery g, Path target, Path tmp, int threads) {
            this.g = g;
            this.target = target;
            this.tmp = tmp;
            this.threads = threads;
        }

        /** Adds one record; thread-safe (callers may add from several threads). Validation as {@link #add}. */
        public void add(String identity, float[] embedding) throws IOException {
            g.add(identity, embedding);
        }

        /**
         * Adds every record of {@code records} with {@link Options#threads()} indexing threads (each Lucene indexing
         * thread builds its own segment's graph).
         *
         * @return the number of records added
         * @throws IOException or IllegalArgumentException from the first failing record (the build is then unusable;
         *                     {@link #close()} deletes it)
         */
        public long addAll(Iterable<Entry> records) throws IOException {
            java.util.Iterator<Entry> it = records.iterator();
            long[] count = new long[1];
            Object lock = new Object();
            Throwable[] failure = new Throwable[1];
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Thread th = new Thread(() -> {
                    List<Entry> batch = new ArrayList<>(256);
                    while (true) {
                        batch.clear();
                        synchronized (lock) {
                            if (failure[0] != null) {
                                return;
                            }
                            while (batch.size() < 256 && it.hasNext()) {
                                batch.add(it.next());
                            }
                            count[0] += batch.size();
                        }
                        if (batch.isEmpty()) {
                            return;
                        }
                        try {
                            for (Entry e : batch) {
                                g.add(e.identity(), e.embedding());
                            }
                        } catch (Throwable e) {
                            synchronized (lock) {
                                if (failure[0] == null) {
                                    failure[0] = e;
                                }
                            }
                            return;
                        }
                    }
                }, "hnsw-index-" + t);
                th.start();
                ts.add(th);
            }
            for (Thread th : ts) {
                try {
                    th.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while building " + target, e);
                }
            }
            if (failure[0] instanceof IOException e) {
                throw e;
            }
            if (failure[0] instanceof RuntimeException e) {
                throw e;
            }
            if (failure[0] != null) {
                throw new IOException("building " + target + " failed: " + failure[0], failure[0]);
            }
            return count[0];
        }

        /**
         * Merges to one segment (one HNSW graph, concurrent merge workers), commits, and moves the gallery into
         * place.
         *
         * @param forceMerge merge to a single segment first (recommended for search speed)
         * @return the target folder
         */
        public Path finish(boolean forceMerge) throws IOException {
            return finish(forceMerge ? 1 : 0);
        }

        /**
         * As {@link #finish(boolean)}, merging to at most {@code maxSegments} segments first (0: no merge). Several
         * segments let a search with {@link Options#searchThreads()} &gt; 1 walk them in parallel.
         *
         * @param maxSegments 0, or the segment count to merge down to (&gt;= 1)
         * @return the target folder
         */
        public Path finish(int maxSegments) throws IOException {
            if (maxSegments < 0) {
                throw new IllegalArgumentException("maxSegments must be >= 0, got " + maxSegments);
            }
            if (maxSegments > 0) {
                g.forceMerge(maxSegments);
            }
            g.close();
            Path old = null;
            if (Files.exists(target)) {
                old = target.resolveSibling("." + target.getFileName() + "." + ProcessHandle.current().pid()
                        + "-old-" + System.nanoTime() + ".tmp");
                Files.move(target, old, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
            try {
                Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                if (old != null) {
                    Files.move(old, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                }
                throw new IOException("cannot move the built gallery into " + target + ": " + e.getMessage(), e);
            }
            done = true;
            if (old != null) {
                deleteTree(old);
            }
            return target;
        }

        /** Abandons an unfinished build and deletes its temporary folder (no-op after {@link #finish}). */
        @Override
        public void close() throws IOException {
            if (!done) {
                done = true;
                try {
                    if (g.writer.isOpen()) {
                        g.writer.rollback();
                    }
                    g.searchers.close();
                    g.directory.close();
                    if (g.mergeExecutor != null) {
                        g.mergeExecutor.shutdownNow();
                    }
                    if (g.searchExecutor != null) {
                        g.searchExecutor.shutdownNow();
                    }
                } finally {
                    deleteTree(tmp);
                }
            }
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }
}
