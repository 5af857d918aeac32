package io.spherekit.spark;

import io.spherekit.core.Images;
import io.spherekit.core.SphereKitException;
import io.spherekit.core.cli.Cli;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.Galleries;
import io.spherekit.runtime.ModelId;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Spark job (1): embeds an image folder (recursively) or the files of a list into Parquet, one row per file.
 *
 * <p>Columns ({@link #SCHEMA}): {@code file} (string: the path as listed), {@code status} (string, see
 * {@link ImageEmbedding}: {@code ok}, {@code no_face}, {@code face_too_small}, {@code uniform_image},
 * {@code undecodable}, {@code unreadable}), {@code reason} (string, null when ok), {@code box} (struct of doubles
 * {@code x, y, w, h} in the image's pixels, x/y the top-left corner; null in crop mode and for files without a
 * face), {@code embedding} (array&lt;float&gt;: raw, not L2-normalised, without test-time flip; with
 * {@code --flip sum|concat} the combined, unit-norm embedding of {@link FaceEmbedder#embedTensor}; null unless ok),
 * {@code model_id} (string, {@link ModelId} of the embedder: the model's id, with {@code +flip=MODE} under a
 * test-time flip) and {@code preprocessing} (string, {@link Galleries#preprocessingOf(FaceEmbedder)}: input size,
 * crop, channel order, mean/scale, alignment and template, flip; {@link GalleryJob} records it in the gallery).
 * Files that cannot be read or decoded, and (aligned mode) images without a
 * usable face, are kept as rows with their reason: the job does not drop or fail on them.
 *
 * <pre>
 * spark-submit --class io.spherekit.spark.EmbedJob spherekit-spark-job.jar \
 *     --model model.onnx --input hdfs:///faces --output hdfs:///faces.parquet
 * </pre>
 */
@Command(name = "spark-embed", mixinStandardHelpOptions = true,
        description = "Embed an image folder (recursive) or a list of image files into Parquet on Apache Spark.")
public final class EmbedJob implements Callable<Integer> {

    /** The Parquet schema written by this job. */
    public static final StructType SCHEMA = new StructType(new StructField[] {
        DataTypes.createStructField("file", DataTypes.StringType, false),
        DataTypes.createStructField("status", DataTypes.StringType, false),
        DataTypes.createStructField("reason", DataTypes.StringType, true),
        DataTypes.createStructField("box", new StructType(new StructField[] {
            DataTypes.createStructField("x", DataTypes.DoubleType, false),
            DataTypes.createStructField("y", DataTypes.DoubleType, false),
            DataTypes.createStructField("w", DataTypes.DoubleType, false),
            DataTypes.createStructField("h", DataTypes.DoubleType, false)}), true),
        DataTypes.createStructField("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), true),
        DataTypes.createStructField("model_id", DataTypes.StringType, false),
        DataTypes.createStructField("preprocessing", DataTypes.StringType, false)});

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    JobOptions jobOptions;

    static final class Input {
        @Option(names = "--input", required = true, paramLabel = "DIR",
                description = "Image folder, searched recursively for files with an image suffix (any Hadoop file"
                        + " system URI or a local path).")
        String dir;

        @Option(names = "--list", required = true, paramLabel = "FILE",
                description = "Text file (on the driver) with one image path or URI per line; blank lines and"
                        + " #-comments are ignored.")
        java.nio.file.Path list;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    @Option(names = "--list-root", paramLabel = "DIR", description = "With --list: folder that relative lines are"
            + " taken from (default: as given, i.e. relative to the default file system's working folder).")
    String listRoot;

    @Option(names = "--output", required = true, paramLabel = "OUT.parquet",
            description = "Parquet output folder, written atomically (hidden sibling folder, then rename).")
    String output;

    @Option(names = "--overwrite", description = "Replace an existing output.")
    boolean overwrite;

    /** Runs the job on spark-submit's master. */
    public static void main(String[] args) {
        Cli.exit(new EmbedJob(), args);
    }

    @Override
    public Integer call() throws Exception {
        jobOptions.validate();
        EmbedderSpec es = modelOptions.spec();
        PrintWriter out = spec.commandLine().getOut();
        try (SparkJobs.Session s = SparkJobs.session("spherekit-embed", jobOptions.master)) {
            SparkSession spark = s.spark();
            Configuration conf = spark.sparkContext().hadoopConfiguration();
            List<String> files = input.dir != null ? listImages(input.dir, conf) : readList(input.list, listRoot);
            if (files.isEmpty()) {
                throw new SphereKitException(input.dir != null ? "no image files under " + input.dir + " (suffixes "
                        + Images.readableSuffixes() + ")" : "list " + input.list + " names no files");
            }
            FaceEmbedder driverEmbedder = EmbedderHolder.get(es); // fails fast on a bad model; gives the model id
            String modelId = ModelId.of(driverEmbedder);
            String preprocessing = Galleries.preprocessingOf(driverEmbedder);
            long t0 = System.nanoTime();
            JavaRDD<ImageEmbedding> results = SparkJobs.embed(spark, files, es, jobOptions,
                    PartitionEmbedder.NoFace.RECORD);
            Dataset<Row> df = spark.createDataFrame(results.map(r -> toRow(r, modelId, preprocessing)), SCHEMA);
            SparkJobs.writeParquetAtomically(df, output, overwrite, conf);
            double seconds = (System.nanoTime() - t0) / 1e9;
            List<Row> counts = spark.read().parquet(output).groupBy("status").count().orderBy("status")
                    .collectAsList();
            out.printf(Locale.ROOT, "embedded %d files in %.1f s (%.1f files/s, %d partitions, batch %d, model %s,"
                    + " %s, flip %s, %d-d)%n", files.size(), seconds, files.size() / seconds,
                    jobOptions.partitionsFor(files.size(), spark.sparkContext().defaultParallelism()),
                    jobOptions.batch, modelId, driverEmbedder.detector() == null ? "fixed crop" : "detect + align",
                    driverEmbedder.flip().id(), driverEmbedder.embeddingDim());
            for (Row r : counts) {
                out.printf(Locale.ROOT, "  %s: %d%n", r.getString(0), r.getLong(1));
            }
            out.println("output: " + output);
            out.flush();
            return Cli.OK;
        }
    }

    static Row toRow(ImageEmbedding r, String modelId, String preprocessing) {
        Row box = r.box() == null ? null : RowFactory.create(r.box()[0], r.box()[1], r.box()[2], r.box()[3]);
        return RowFactory.create(r.file(), r.status(), r.reason(), box, r.embedding(), modelId, preprocessing);
    }

    /**
     * The image files under a folder, recursively, in path order: files whose suffix {@link Images} reads, hidden
     * files (name starting with {@code .}) left out.
     *
     * @param dir a Hadoop path or URI; without a scheme, files are returned as plain paths, else as full URIs
     * @throws IOException naming the folder when it does not exist or is not a folder
     */
    public static List<String> listImages(String dir, Configuration conf) throws IOException {
        Path root = new Path(dir);
        FileSystem fs = root.getFileSystem(conf);
        if (!fs.exists(root) || !fs.getFileStatus(root).isDirectory()) {
            throw new IOException("input " + dir + " is not a folder");
        }
        boolean plain = URI.create(root.toUri().toString()).getScheme() == null;
        Set<String> suffixes = Images.readableSuffixes();
        List<String> files = new ArrayList<>();
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
        while (it.hasNext()) {
            LocatedFileStatus st = it.next();
            String name = st.getPath().getName();
            int dot = name.lastIndexOf('.');
            if (name.startsWith(".") || dot <= 0 || !suffixes.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT))) {
                continue;
            }
            files.add(plain ? st.getPath().toUri().getPath() : st.getPath().toString());
        }
        Collections.sort(files);
        return files;
    }

    /**
     * The files of a list file on the driver.
     *
     * @param root folder for relative lines, or {@code null}
     * @throws IOException naming the list when it cannot be read
     */
    static List<String> readList(java.nio.file.Path list, String root) throws IOException {
        if (!Files.isRegularFile(list)) {
            throw new IOException("list " + list + " does not exist or is not a file");
        }
        List<String> lines = SparkJobs.listLines(Files.readAllLines(list, StandardCharsets.UTF_8));
        if (root == null) {
            return lines;
        }
        List<String> out = new ArrayList<>(lines.size());
        for (String l : lines) {
            out.add(new Path(l).isAbsolute() || new Path(l).toUri().getScheme() != null ? l
                    : new Path(new Path(root), l).toString());
        }
        return out;
    }
}
