package io.spherekit.runtime.cli;

import io.spherekit.core.ident.Identifier;
import io.spherekit.core.cli.Cli;
import io.spherekit.index.HnswGallery;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.Galleries;
import io.spherekit.runtime.Gallery;
import io.spherekit.core.Images;
import io.spherekit.runtime.ModelId;
import io.spherekit.core.SphereKitException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code spherekit gallery build|add|remove|search|stats}: 1:N identification galleries of either kind, told apart
 * by the path: a file is an exact gallery ({@link Gallery}, scanned in full), a folder an HNSW index
 * ({@link HnswGallery}, Apache Lucene, approximate, on disk).
 */
@Command(name = "gallery", mixinStandardHelpOptions = true,
        description = "Build a 1:N identification gallery from labelled images, change it, search it or describe it."
                + " A gallery FILE is exact (every embedding scanned); a gallery FOLDER is an HNSW index (Lucene,"
                + " approximate, for millions of embeddings).",
        subcommands = {GalleryCommand.Build.class, GalleryCommand.Add.class, GalleryCommand.Remove.class,
            GalleryCommand.Search.class, GalleryCommand.Stats.class})
public final class GalleryCommand implements Runnable {

    /** File name extensions taken as images when scanning a gallery root (case-insensitive). */
    static final Set<String> IMAGE_EXTENSIONS = Set.of("jpg", "jpeg", "png", "bmp", "gif", "pgm", "ppm", "pnm");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing subcommand: build, add, remove, search or stats");
    }

    /** Gallery kinds for {@code build --index}. */
    enum Kind { exact, hnsw }

    /** HNSW build settings shared by build and add. */
    static final class HnswOptions {
        @Option(names = "--encoding", defaultValue = "float32", paramLabel = "float32|int7",
                description = "HNSW vector encoding (default: ${DEFAULT-VALUE}); int7 adds 7-bit scalar-quantised"
                        + " vectors on which the graph is built and searched (results are rescored in float32).")
        String encoding;

        @Option(names = "--m", defaultValue = "" + HnswGallery.DEFAULT_MAX_CONN, paramLabel = "M",
                description = "HNSW neighbours per node (default: ${DEFAULT-VALUE}).")
        int m;

        @Option(names = "--beam-width", defaultValue = "" + HnswGallery.DEFAULT_BEAM_WIDTH, paramLabel = "N",
                description = "HNSW construction beam, efConstruction (default: ${DEFAULT-VALUE}).")
        int beamWidth;

        @Option(names = "--index-threads", defaultValue = "0", paramLabel = "N",
                description = "Indexing threads and HNSW merge workers (0 = number of processors).")
        int indexThreads;

        HnswGallery.Options options(CommandLine cl) {
            HnswGallery.Encoding enc;
            try {
                enc = HnswGallery.Encoding.valueOf(encoding.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(cl, "--encoding must be float32 or int7, got '" + encoding
                        + "'");
            }
            if (indexThreads < 0) {
                throw new CommandLine.ParameterException(cl, "--index-threads must be >= 0, got " + indexThreads);
            }
            try {
                HnswGallery.Options o = HnswGallery.Options.defaults().withEncoding(enc).withGraph(m, beamWidth);
                return indexThreads > 0 ? o.withThreads(indexThreads) : o;
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(cl, e.getMessage());
            }
        }
    }

    /** Refuses (or with {@code allow}, warns about) a gallery recorded with another model or preprocessing. */
    static void checkModel(CommandLine cl, Path path, Identifier g, String id, String pre, boolean allow) {
        String stored = g.modelId();
        if (!stored.isEmpty() && !ModelId.sameModel(stored, id)) {
            if (!allow) {
                throw new Cli.Failure("gallery " + path + " was built with model " + stored + ", not " + id
                        + ": its embeddings are not comparable (rebuild it with this model, or pass"
                        + " --allow-model-mismatch)");
            }
            cl.getErr().printf("warning: gallery was built with model %s, searching with %s%n", stored, id);
        }
        String storedPre = Galleries.preprocessingOf(g);
        if (!storedPre.isEmpty() && !Galleries.samePreprocessing(storedPre, pre)) {
            if (!allow) {
                throw new Cli.Failure("gallery " + path + " was built with preprocessing '" + storedPre + "', not '"
                        + pre + "': its embeddings are not comparable (use the same --align and input settings,"
                        + " or pass --allow-model-mismatch)");
            }
            cl.getErr().printf("warning: gallery was built with preprocessing '%s', now '%s'%n", storedPre, pre);
        }
    }

    /** Images to enrol: {@code --root DIR} (one folder per person) or {@code --label NAME IMAGE...}. */
    static final class Inputs {
        @Option(names = "--root", paramLabel = "DIR",
                description = "One sub-folder per person holding that person's images.")
        Path root;

        @Option(names = "--label", paramLabel = "NAME", description = "Enrol the IMAGE arguments as this identity.")
        String label;

        void collect(CommandLine cl, List<Path> images, List<Path> files, List<String> labels) throws IOException {
            if ((root == null) == (label == null)) {
                throw new CommandLine.ParameterException(cl, "give exactly one of --root DIR or --label NAME IMAGE...");
            }
            if (root != null) {
                if (!images.isEmpty()) {
                    throw new CommandLine.ParameterException(cl, "IMAGE arguments need --label, not --root");
                }
                Build.scan(root, files, labels, cl.getErr());
            } else {
                if (images.isEmpty()) {
                    throw new CommandLine.ParameterException(cl, "--label " + label + " needs at least one IMAGE");
                }
                for (Path p : images) {
                    files.add(p);
                    labels.add(label);
                }
            }
        }
    }

    /** Embeds files, naming skipped ones; fails when none is usable. */
    static EmbeddingJob.Output embed(FaceEmbedder embedder, List<Path> files, int batch, PrintWriter err,
                                     NoFaceOption nf, String where) throws SphereKitException, IOException {
        EmbeddingJob.Output emb = EmbeddingJob.run(embedder, files, batch, err, nf.mode(), nf.skipUnreadable());
        if (emb.skipped().size() == files.size()) {
            throw new SphereKitException("no usable face in any of the " + files.size() + " images " + where
                    + " (--align detect): skipped " + emb.skippedSummary());
        }
        return emb;
    }

    /** {@code gallery build --model m.onnx --root DIR --output g.gallery|DIR [--index hnsw]}. */
    @Command(name = "build", mixinStandardHelpOptions = true,
            description = "Embed DIR/LABEL/*.jpg (one folder per person; the label is the folder name) and write"
                    + " a gallery atomically: an exact gallery file (--index exact) or an HNSW index folder"
                    + " (--index hnsw).")
    static final class Build implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ModelOptions modelOptions;

        @Option(names = "--root", required = true, paramLabel = "DIR",
                description = "One sub-folder per person holding that person's images.")
        Path root;

        @Option(names = "--output", required = true, paramLabel = "OUT",
                description = "Gallery file (exact) or folder (hnsw); replaced atomically if it exists.")
        Path output;

        @Option(names = "--index", defaultValue = "exact", paramLabel = "exact|hnsw",
                description = "Gallery kind (default: ${DEFAULT-VALUE}). exact: one file, every embedding scanned"
                        + " per search, right up to ~100k embeddings. hnsw: a Lucene HNSW index folder, approximate,"
                        + " memory-mapped, for millions.")
        Kind kind;

        @Mixin
        HnswOptions hnsw;

        @Option(names = "--segments", defaultValue = "1", paramLabel = "N",
                description = "hnsw: merge the index to N segments (default: ${DEFAULT-VALUE}; 0 = no merge). With"
                        + " N > 1, 'search --search-threads N' and 'serve --gallery-search-threads N' search the"
                        + " segments in parallel.")
        int segments;

        @Mixin
        BatchOption batchOption;

        @Mixin
        NoFaceOption noFaceOption;

        @Override
        public Integer call() throws Exception {
            int batch = batchOption.validated(spec);
            CommandLine cl = spec.commandLine();
            HnswGallery.Options hopts = kind == Kind.hnsw ? hnsw.options(cl) : null;
            if (segments < 0) {
                throw new CommandLine.ParameterException(cl, "--segments must be >= 0, got " + segments);
            }
            PrintWriter out = cl.getOut();
            PrintWriter err = cl.getErr();
            List<Path> files = new ArrayList<>();
            List<String> labels = new ArrayList<>();
            scan(root, files, labels, err);
            try (FaceEmbedder embedder = modelOptions.open()) {
                EmbeddingJob.Output emb = embed(embedder, files, batch, err, noFaceOption, "under " + root);
                String id = ModelId.of(embedder);
                long rows;
                int identities;
                if (kind == Kind.exact) {
                    Gallery.Builder b = Gallery.builder(embedder.embeddingDim()).optModelId(id)
                            .optPreprocessing(Galleries.preprocessingOf(embedder));
                    for (int i = 0; i < files.size(); i++) {
                        if (emb.embeddings()[i] == null) {
                            continue; // skipped (no usable face), reported below
                        }
                        try {
                            b.add(labels.get(i), emb.embeddings()[i]);
                        } catch (IllegalArgumentException e) {
                            throw new IllegalArgumentException(files.get(i) + ": " + e.getMessage(), e);
                        }
                    }
                    Gallery g = b.build();
                    g.save(output);
                    rows = g.size();
                    identities = g.identityCount();
                } else {
                    try (HnswGallery.BulkBuilder b = HnswGallery.bulkBuilder(output, embedder.embeddingDim(), id,
                            Galleries.preprocessingOf(embedder), hopts)) {
                        rows = 0;
                        Set<String> ids = new LinkedHashSet<>();
                        for (int i = 0; i < files.size(); i++) {
                            if (emb.embeddings()[i] == null) {
                                continue;
                            }
                            try {
                                b.add(labels.get(i), emb.embeddings()[i]);
                            } catch (IllegalArgumentException e) {
                                throw new IllegalArgumentException(files.get(i) + ": " + e.getMessage(), e);
                            }
                            rows++;
                            ids.add(labels.get(i));
                        }
                        identities = ids.size();
                        b.finish(segments);
                    }
                }
                out.printf(Locale.ROOT, "gallery: %d embeddings of %d identities (%d-d, model %s%s) written to %s%n",
                        rows, identities, embedder.embeddingDim(), id,
                        kind == Kind.hnsw ? ", hnsw " + hopts.encoding().id() : "", output);
                if (embedder.detector() != null) {
                    out.printf(Locale.ROOT, "skipped: %s of %d images without a usable face%n", emb.skippedSummary(),
                            files.size());
                }
                out.flush();
                return Cli.OK;
            }
        }

        /** Lists DIR/LABEL/image files in name order; folders without images are skipped with a warning. */
        static void scan(Path root, List<Path> files, List<String> labels, PrintWriter err) throws IOException {
            if (!Files.isDirectory(root)) {
                throw new IOException("gallery root " + root + " is not a directory");
            }
            List<Path> people;
            try (Stream<Path> s = Files.list(root)) {
                people = s.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith("."))
                        .sorted().toList();
            }
            for (Path person : people) {
                List<Path> imgs;
                try (Stream<Path> s = Files.list(person)) {
                    imgs = s.filter(Files::isRegularFile).filter(Build::isImage).sorted().toList();
                }
                if (imgs.isEmpty()) {
                    err.println("warning: " + person + " holds no images; skipped");
                    continue;
                }
                for (Path p : imgs) {
                    files.add(p);
                    labels.add(person.getFileName().toString());
                }
            }
            if (files.isEmpty()) {
                throw new IOException("no images found under " + root + " (expected " + root
                        + "/LABEL/NAME.jpg, one folder per person; extensions " + IMAGE_EXTENSIONS + ")");
            }
        }

        private static boolean isImage(Path p) {
            String n = p.getFileName().toString();
            int dot = n.lastIndexOf('.');
            return !n.startsWith(".") && dot > 0
                    && IMAGE_EXTENSIONS.contains(n.substring(dot + 1).toLowerCase(Locale.ROOT));
        }
    }

    /** {@code gallery add --model m.onnx --gallery G (--root DIR | --label NAME IMAGE...)}. */
    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Embed more images and add them to an existing gallery (new identities, or more embeddings"
                    + " of enrolled ones). An exact gallery file is rewritten atomically; an HNSW index gets an"
                    + " atomic Lucene commit.")
    static final class Add implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ModelOptions modelOptions;

        @Option(names = "--gallery", required = true, paramLabel = "G", description = "Gallery file or index folder.")
        Path galleryPath;

        @Mixin
        Inputs inputs;

        @Option(names = "--allow-model-mismatch", description = "Add to a gallery built with another model or"
                + " preprocessing (refused by default).")
        boolean allowModelMismatch;

        @Mixin
        BatchOption batchOption;

        @Mixin
        NoFaceOption noFaceOption;

        @Parameters(arity = "0..*", paramLabel = "IMAGE", description = "Images of --label NAME.")
        List<Path> images = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            int batch = batchOption.validated(spec);
            CommandLine cl = spec.commandLine();
            List<Path> files = new ArrayList<>();
            List<String> labels = new ArrayList<>();
            inputs.collect(cl, images, files, labels);
            try (FaceEmbedder embedder = modelOptions.open()) {
                String id = ModelId.of(embedder);
                String pre = Galleries.preprocessingOf(embedder);
                long added = 0;
                if (Files.isDirectory(galleryPath)) {
                    try (HnswGallery g = HnswGallery.open(galleryPath, true)) {
                        checkDim(g, embedder);
                        checkModel(cl, galleryPath, g, id, pre, allowModelMismatch);
                        EmbeddingJob.Output emb = embed(embedder, files, batch, cl.getErr(), noFaceOption, "given");
                        for (int i = 0; i < files.size(); i++) {
                            if (emb.embeddings()[i] != null) {
                                g.add(labels.get(i), emb.embeddings()[i]);
                                added++;
                            }
                        }
                        g.commit();
                        report(cl, added, g);
                    }
                } else {
                    Gallery g = Gallery.load(galleryPath, embedder.embeddingDim());
                    checkModel(cl, galleryPath, g, id, pre, allowModelMismatch);
                    EmbeddingJob.Output emb = embed(embedder, files, batch, cl.getErr(), noFaceOption, "given");
                    // the recorded preprocessing is kept (checked above); an old file's "not recorded" stays so
                    Gallery.Builder b = Gallery.builder(g.dim()).optModelId(g.modelId())
                            .optPreprocessing(g.preprocessing());
                    for (int r = 0; r < g.size(); r++) {
                        b.add(g.label(r), g.embedding(r));
                    }
                    for (int i = 0; i < files.size(); i++) {
                        if (emb.embeddings()[i] != null) {
                            try {
                                b.add(labels.get(i), emb.embeddings()[i]);
                            } catch (IllegalArgumentException e) {
                                throw new IllegalArgumentException(files.get(i) + ": " + e.getMessage(), e);
                            }
                            added++;
                        }
                    }
                    Gallery ng = b.build();
                    ng.save(galleryPath);
                    report(cl, added, ng);
                }
                return Cli.OK;
            }
        }

        private void report(CommandLine cl, long added, Identifier g) {
            cl.getOut().printf(Locale.ROOT, "gallery: added %d embeddings; now %d embeddings of %d identities in %s%n",
                    added, g.embeddingCount(), g.identityCount(), galleryPath);
            cl.getOut().flush();
        }
    }

    static void checkDim(Identifier g, FaceEmbedder embedder) throws IOException {
        if (g.dim() != embedder.embeddingDim()) {
            throw new IOException("gallery " + g + " holds " + g.dim() + "-d embeddings but the model produces "
                    + embedder.embeddingDim() + "-d embeddings");
        }
    }

    /** {@code gallery remove --gallery G LABEL...}. */
    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Remove identities (all their embeddings) from a gallery. Every LABEL must be enrolled;"
                    + " otherwise nothing is changed.")
    static final class Remove implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--gallery", required = true, paramLabel = "G", description = "Gallery file or index folder.")
        Path galleryPath;

        @Parameters(arity = "1..*", paramLabel = "LABEL", description = "Identities to remove.")
        List<String> removeLabels;

        @Override
        public Integer call() throws Exception {
            CommandLine cl = spec.commandLine();
            Set<String> wanted = new LinkedHashSet<>(removeLabels);
            long removed = 0;
            Identifier after;
            if (Files.isDirectory(galleryPath)) {
                try (HnswGallery g = HnswGallery.open(galleryPath, true)) {
                    for (String l : wanted) {
                        if (g.count(l) == 0) {
                            throw new Cli.Failure("identity '" + l + "' is not in gallery " + galleryPath
                                    + "; nothing removed");
                        }
                    }
                    for (String l : wanted) {
                        removed += g.remove(l);
                    }
                    g.commit();
                    cl.getOut().printf(Locale.ROOT, "gallery: removed %d identities (%d embeddings); now %d embeddings"
                            + " of %d identities in %s%n", wanted.size(), removed, g.embeddingCount(),
                            g.identityCount(), galleryPath);
                }
            } else {
                Gallery g = Gallery.load(galleryPath);
                for (String l : wanted) {
                    if (!g.labels().contains(l)) {
                        throw new Cli.Failure("identity '" + l + "' is not in gallery " + galleryPath
                                + "; nothing removed");
                    }
                }
                Gallery.Builder b = Gallery.builder(g.dim()).optModelId(g.modelId())
                        .optPreprocessing(g.preprocessing());
                for (int r = 0; r < g.size(); r++) {
                    if (wanted.contains(g.label(r))) {
                        removed++;
                    } else {
                        b.add(g.label(r), g.embedding(r));
                    }
                }
                after = b.build();
                ((Gallery) after).save(galleryPath);
                cl.getOut().printf(Locale.ROOT, "gallery: removed %d identities (%d embeddings); now %d embeddings of"
                        + " %d identities in %s%n", wanted.size(), removed, after.embeddingCount(),
                        after.identityCount(), galleryPath);
            }
            cl.getOut().flush();
            return Cli.OK;
        }
    }

    /** {@code gallery search --model m.onnx --gallery G [--k 5] [--threshold T] image}. */
    @Command(name = "search", mixinStandardHelpOptions = true,
            description = "Print the k gallery identities most similar to a face image, best first (rank, cosine,"
                    + " label). With --threshold, then an open-set decision: 'identified LABEL' or 'unknown'.")
    static final class Search implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ModelOptions modelOptions;

        @Option(names = "--gallery", required = true, paramLabel = "G", description = "Gallery file or index folder.")
        Path galleryFile;

        @Option(names = "--allow-model-mismatch", description = "Search a gallery built with another model (refused"
                + " by default).")
        boolean allowModelMismatch;

        @Option(names = "--k", defaultValue = "5", paramLabel = "K",
                description = "Number of identities to print (default: ${DEFAULT-VALUE}).")
        int k;

        @Option(names = "--threshold", paramLabel = "T",
                description = "Open-set identification: accept the best identity if its cosine is >= T, else"
                        + " answer unknown (a face not enrolled).")
        Double threshold;

        @Option(names = "--fanout", paramLabel = "N",
                description = "HNSW search beam: nearest embeddings collected per query (default "
                        + "100; larger is slower and finds the exact top-k more often). Ignored for exact galleries.")
        Integer fanout;

        @Option(names = "--search-threads", defaultValue = "1", paramLabel = "N",
                description = "HNSW: threads per query, one index segment each (default: ${DEFAULT-VALUE}; see"
                        + " 'build --segments').")
        int searchThreads;

        @Parameters(index = "0", paramLabel = "IMAGE", description = "Query face image.")
        Path image;

        @Override
        public Integer call() throws Exception {
            CommandLine cl = spec.commandLine();
            if (k < 1) {
                throw new CommandLine.ParameterException(cl, "--k must be >= 1, got " + k);
            }
            if (threshold != null && !(threshold >= -1 && threshold <= 1)) {
                throw new CommandLine.ParameterException(cl, "--threshold must be a cosine in [-1, 1], got "
                        + threshold);
            }
            if (fanout != null && (fanout < 1 || fanout > HnswGallery.MAX_FANOUT)) {
                throw new CommandLine.ParameterException(cl, "--fanout must be in [1," + HnswGallery.MAX_FANOUT
                        + "], got " + fanout);
            }
            if (searchThreads < 1) {
                throw new CommandLine.ParameterException(cl, "--search-threads must be >= 1, got " + searchThreads);
            }
            PrintWriter out = cl.getOut();
            try (FaceEmbedder embedder = modelOptions.open()) {
                Identifier g = Galleries.open(galleryFile, embedder.embeddingDim(), searchThreads);
                try {
                    String id = ModelId.of(embedder);
                    checkModel(cl, galleryFile, g, id, Galleries.preprocessingOf(embedder), allowModelMismatch);
                    if (fanout != null && g instanceof HnswGallery h) {
                        h.setFanout(fanout);
                    }
                    float[] q = embedder.embed(Images.read(image), image.toString());
                    List<Identifier.Match> matches = g.search(q, k);
                    for (int i = 0; i < matches.size(); i++) {
                        out.printf(Locale.ROOT, "%d\t%.6f\t%s%n", i + 1, matches.get(i).score(),
                                matches.get(i).label());
                    }
                    if (threshold != null) {
                        Identifier.Decision d = g.identify(q, threshold);
                        if (d.known()) {
                            out.printf(Locale.ROOT, "identified %s (cosine %.6f >= threshold %.6f)%n", d.label(),
                                    d.best().score(), threshold);
                        } else if (d.best() == null) {
                            out.printf(Locale.ROOT, "unknown (the gallery is empty)%n");
                        } else {
                            out.printf(Locale.ROOT, "unknown (best %s, cosine %.6f < threshold %.6f)%n",
                                    d.best().label(), d.best().score(), threshold);
                        }
                    }
                    out.flush();
                    return Cli.OK;
                } finally {
                    Galleries.closeQuietly(g);
                }
            }
        }
    }

    /** {@code gallery stats --gallery G}. */
    @Command(name = "stats", mixinStandardHelpOptions = true,
            description = "Describe a gallery: kind, identities, embeddings, dimension, model, preprocessing, and for an HNSW index"
                    + " its encoding, graph settings, segments and disk size.")
    static final class Stats implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--gallery", required = true, paramLabel = "G", description = "Gallery file or index folder.")
        Path galleryPath;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            if (Files.isDirectory(galleryPath)) {
                try (HnswGallery g = HnswGallery.open(galleryPath, false)) {
                    HnswGallery.Stats s = g.stats();
                    HnswGallery.Metadata m = g.metadata();
                    out.printf(Locale.ROOT, "kind: hnsw%nidentities: %d%nembeddings: %d%ndim: %d%nmodel: %s%n"
                                    + "preprocessing: %s%nencoding: %s%nhnsw_m: %d%nhnsw_beam_width: %d%nsegments: %d%n"
                                    + "deleted_not_merged: %d%ndisk_bytes: %d%n", s.identities(), s.embeddings(),
                            m.dim(), m.modelId(), m.preprocessing(), m.encoding().id(), m.maxConn(), m.beamWidth(),
                            s.segments(), s.deleted(), s.diskBytes());
                }
            } else {
                Gallery g = Gallery.load(galleryPath);
                String pre = !g.preprocessing().isEmpty() ? g.preprocessing()
                        : g.formatVersion() == Gallery.FORMAT_VERSION_1
                        ? "(not recorded: format version 1 file, written before galleries recorded their"
                                + " preprocessing; searches do not check it. Rebuild the gallery to record it)"
                        : "(not recorded)";
                out.printf(Locale.ROOT, "kind: exact%nformat_version: %d%nidentities: %d%nembeddings: %d%ndim: %d%n"
                                + "model: %s%npreprocessing: %s%ndisk_bytes: %d%n", g.formatVersion(),
                        g.identityCount(), g.embeddingCount(), g.dim(), g.modelId(), pre, Files.size(galleryPath));
            }
            out.flush();
            return Cli.OK;
        }
    }
}
