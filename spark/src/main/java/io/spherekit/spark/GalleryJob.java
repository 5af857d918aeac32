package io.spherekit.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.regexp_extract;

import io.spherekit.core.SphereKitException;
import io.spherekit.core.cli.Cli;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Spark job (3): bulk-builds a 1:N identification gallery from the Parquet of {@link EmbedJob}.
 *
 * <p>The identity of a row is its file's folder name (as {@code gallery build} labels {@code ROOT/LABEL/x.jpg}), or
 * a column of the Parquet with {@code --identity-column}. Rows whose status is not {@code ok} are left out and
 * counted. Every row must carry the same {@code model_id} (which names the test-time flip, {@code +flip=MODE}) and
 * the same {@code preprocessing}; both are recorded in the gallery, as {@code gallery build} records them, so that
 * {@code gallery search}, {@code gallery add} and {@code serve} refuse queries of another model, flip mode or
 * preprocessing. A Parquet written before EmbedJob had the {@code preprocessing} column gives a gallery without a
 * recorded preprocessing (said so in the output; not checked, as an exact gallery of format version 1). The
 * embeddings are streamed to the driver in (identity, file) order, one partition at a time
 * ({@code toLocalIterator}), into a {@link GalleryIndexBuilder}, which writes the file atomically; with the exact
 * gallery and folders laid out as {@code gallery build} expects, the file holds the same identities, rows and
 * order as {@code gallery build} on the same images and model.
 */
@Command(name = "spark-gallery", mixinStandardHelpOptions = true,
        description = "Build a gallery file from embeddings Parquet (spark-embed's output) on Apache Spark.")
public final class GalleryJob implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--embeddings", required = true, paramLabel = "IN.parquet",
            description = "Parquet with columns file, status, embedding, model_id and preprocessing (spark-embed's"
                    + " output).")
    String embeddings;

    @Option(names = "--output", required = true, paramLabel = "OUT.gallery",
            description = "Gallery file on the driver, written atomically.")
    Path output;

    @Option(names = "--identity-column", paramLabel = "NAME",
            description = "Column holding the identity (default: the name of the folder holding each file).")
    String identityColumn;

    @Option(names = "--kind", defaultValue = "exact", paramLabel = "exact|hnsw|hnsw-int7",
            description = "exact: the exact-scan gallery file (default); hnsw / hnsw-int7: a Lucene HNSW index folder"
                    + " (float32 / scalar-quantised graph), as `gallery build --index hnsw` writes.")
    String kind;

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master, e.g. local[2] (default: the one spark-submit sets).")
    String master;

    @Option(names = "--verbose", description = "Print stack traces on errors.")
    boolean verbose;

    /** Runs the job on spark-submit's master. */
    public static void main(String[] args) {
        Cli.exit(new GalleryJob(), args);
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (!GalleryIndexBuilder.KINDS.contains(kind)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--kind: unknown gallery kind '" + kind
                    + "' (known: " + String.join(", ", GalleryIndexBuilder.KINDS) + ")");
        }
        try (SparkJobs.Session s = SparkJobs.session("spherekit-gallery", master)) {
            SparkSession spark = s.spark();
            Dataset<Row> df = spark.read().parquet(embeddings);
            List<String> cols = Arrays.asList(df.columns());
            for (String c : new String[] {"file", "status", "embedding", "model_id"}) {
                if (!cols.contains(c)) {
                    throw new SphereKitException(embeddings + " has no column '" + c + "' (columns " + cols
                            + "): expected spark-embed's output");
                }
            }
            if (identityColumn != null && !cols.contains(identityColumn)) {
                throw new SphereKitException(embeddings + " has no column '" + identityColumn + "' (columns " + cols
                        + ")");
            }
            long total = df.count();
            Dataset<Row> ok = df.filter(col("status").equalTo(ImageEmbedding.OK));
            List<Row> ids = ok.select("model_id").distinct().limit(3).collectAsList();
            if (ids.isEmpty()) {
                throw new SphereKitException(embeddings + " holds no embedded image (" + total + " rows, none with"
                        + " status ok)");
            }
            if (ids.size() > 1) {
                throw new SphereKitException(embeddings + " mixes embeddings of several models ("
                        + ids.stream().map(r -> r.getString(0)).toList() + "): build one gallery per model");
            }
            String modelId = ids.get(0).getString(0);
            String preprocessing = "";
            if (cols.contains("preprocessing")) {
                List<Row> pres = ok.select("preprocessing").distinct().limit(3).collectAsList();
                if (pres.size() > 1) {
                    throw new SphereKitException(embeddings + " mixes embeddings of several preprocessings ("
                            + pres.stream().map(r -> r.getString(0)).toList() + "): their embeddings are not"
                            + " comparable; build one gallery per preprocessing");
                }
                preprocessing = pres.get(0).isNullAt(0) ? "" : pres.get(0).getString(0);
            } else {
                spec.commandLine().getErr().println("note: " + embeddings + " has no 'preprocessing' column (written"
                        + " before spark-embed recorded it): the gallery records none, so searches will not check it");
            }
            Dataset<Row> labelled = ok.withColumn("identity", identityColumn != null ? col(identityColumn)
                    : regexp_extract(col("file"), "([^/]+)/[^/]+$", 1));
            Iterator<Row> it = labelled.select("identity", "file", "embedding").orderBy("identity", "file")
                    .toLocalIterator();
            GalleryIndexBuilder builder = null;
            long identities = 0;
            String last = null;
            while (it.hasNext()) {
                Row r = it.next();
                String identity = r.isNullAt(0) ? "" : r.getString(0);
                if (identity.isEmpty()) {
                    throw new SphereKitException(embeddings + ": row of " + r.getString(1) + " has no identity ("
                            + (identityColumn != null ? "column " + identityColumn + " null or empty"
                            : "file not inside a folder") + ")");
                }
                if (!identity.equals(last)) {
                    identities++;
                    last = identity;
                }
                List<Float> e = r.getList(2);
                float[] v = new float[e.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = e.get(i);
                }
                if (builder == null) {
                    builder = GalleryIndexBuilder.create(kind, v.length, modelId, preprocessing);
                }
                try {
                    builder.add(identity, v);
                } catch (IllegalArgumentException ex) {
                    throw new SphereKitException(embeddings + ": row of " + r.getString(1) + ": " + ex.getMessage(), ex);
                }
            }
            builder.write(output);
            out.printf(Locale.ROOT, "gallery: %d embeddings of %d identities (model %s) written to %s; %d of %d rows"
                    + " left out (status not ok)%n", builder.size(), identities, modelId, output, total - builder.size(),
                    total);
            out.printf(Locale.ROOT, "preprocessing: %s%n", preprocessing.isEmpty() ? "(not recorded)" : preprocessing);
            out.flush();
            return Cli.OK;
        }
    }
}
