package io.spherekit.runtime.cli;

import io.spherekit.core.ident.Identifier;
import io.spherekit.core.cli.Cli;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.Gallery;
import io.spherekit.core.Images;
import io.spherekit.runtime.ModelId;
import io.spherekit.core.SphereKitException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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

/** {@code spherekit gallery build|search}: 1:N identification galleries. */
@Command(name = "gallery", mixinStandardHelpOptions = true,
        description = "Build a 1:N identification gallery from labelled images, or search one.",
        subcommands = {GalleryCommand.Build.class, GalleryCommand.Search.class})
public final class GalleryCommand implements Runnable {

    /** File name extensions taken as images when scanning a gallery root (case-insensitive). */
    static final Set<String> IMAGE_EXTENSIONS = Set.of("jpg", "jpeg", "png", "bmp", "gif", "pgm", "ppm", "pnm");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: build or search");
    }

    /** {@code gallery build --model m.onnx --root DIR --output g.gallery}. */
    @Command(name = "build", mixinStandardHelpOptions = true,
            description = "Embed DIR/LABEL/*.jpg (one folder per person; the label is the folder name) and write"
                    + " a gallery file atomically.")
    static final class Build implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ModelOptions modelOptions;

        @Option(names = "--root", required = true, paramLabel = "DIR",
                description = "One sub-folder per person holding that person's images.")
        Path root;

        @Option(names = "--output", required = true, paramLabel = "OUT.gallery", description = "Gallery file.")
        Path output;

        @Mixin
        BatchOption batchOption;

        @Mixin
        NoFaceOption noFaceOption;

        @Override
        public Integer call() throws Exception {
            int batch = batchOption.validated(spec);
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            List<Path> files = new ArrayList<>();
            List<String> labels = new ArrayList<>();
            scan(root, files, labels, err);
            try (FaceEmbedder embedder = modelOptions.open()) {
                EmbeddingJob.Output emb = EmbeddingJob.run(embedder, files, batch, err, noFaceOption.mode(),
                    noFaceOption.skipUnreadable());
                if (emb.skipped().size() == files.size()) {
                    throw new SphereKitException("no usable face in any of the " + files.size() + " images under "
                            + root + " (--align detect): skipped " + emb.skippedSummary());
                }
                String id = ModelId.of(embedder);
                Gallery.Builder b = Gallery.builder(embedder.embeddingDim()).optModelId(id);
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
                out.printf(Locale.ROOT, "gallery: %d embeddings of %d identities (%d-d, model %s) written to %s%n",
                        g.size(), g.labels().size(), g.dim(), id, output);
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

    /** {@code gallery search --model m.onnx --gallery g.gallery [--k 5] image}. */
    @Command(name = "search", mixinStandardHelpOptions = true,
            description = "Print the k gallery identities most similar to a face image, best first.")
    static final class Search implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ModelOptions modelOptions;

        @Option(names = "--gallery", required = true, paramLabel = "G.gallery", description = "Gallery file.")
        Path galleryFile;

        @Option(names = "--allow-model-mismatch", description = "Search a gallery built with another model (refused"
                + " by default).")
        boolean allowModelMismatch;

        @Option(names = "--k", defaultValue = "5", paramLabel = "K",
                description = "Number of identities to print (default: ${DEFAULT-VALUE}).")
        int k;

        @Parameters(index = "0", paramLabel = "IMAGE", description = "Query face image.")
        Path image;

        @Override
        public Integer call() throws Exception {
            if (k < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--k must be >= 1, got " + k);
            }
            PrintWriter out = spec.commandLine().getOut();
            try (FaceEmbedder embedder = modelOptions.open()) {
                Gallery g = Gallery.load(galleryFile, embedder.embeddingDim());
                String id = ModelId.of(embedder);
                if (!g.modelId().isEmpty() && !ModelId.sameModel(g.modelId(), id)) {
                    if (!allowModelMismatch) {
                        throw new Cli.Failure("gallery " + galleryFile + " was built with model " + g.modelId()
                                + ", not " + id + ": its embeddings are not comparable (rebuild it with this model,"
                                + " or pass --allow-model-mismatch)");
                    }
                    spec.commandLine().getErr().printf("warning: gallery was built with model %s, searching with"
                            + " %s%n", g.modelId(), id);
                }
                List<Identifier.Match> matches = g.search(embedder.embed(Images.read(image), image.toString()), k);
                for (int i = 0; i < matches.size(); i++) {
                    out.printf(Locale.ROOT, "%d\t%.6f\t%s%n", i + 1, matches.get(i).score(), matches.get(i).label());
                }
                out.flush();
                return Cli.OK;
            }
        }
    }
}
