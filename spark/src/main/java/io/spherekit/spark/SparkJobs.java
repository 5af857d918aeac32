package io.spherekit.spark;

import io.spherekit.core.SphereKitException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** Session handling, distributed embedding and atomic Parquet output shared by the jobs. */
final class SparkJobs {

    private SparkJobs() {
    }

    /** A session and whether this call created it (then the job stops it when done). */
    record Session(SparkSession spark, boolean created) implements AutoCloseable {
        @Override
        public void close() {
            if (created) {
                spark.stop();
            }
        }
    }

    /**
     * The running session (tests, notebooks) or a new one.
     *
     * @param master the master URL, or {@code null} for spark-submit's
     */
    static Session session(String app, String master) {
        boolean existed = SparkSession.getActiveSession().isDefined() || SparkSession.getDefaultSession().isDefined();
        SparkSession.Builder b = SparkSession.builder().appName(app);
        if (master != null) {
            b.master(master);
        }
        return new Session(b.getOrCreate(), !existed);
    }

    /**
     * Embeds files on the executors: {@code parallelize} into partitions, then {@link PartitionEmbedder} in each.
     *
     * @return one result per file, in partition order
     */
    static JavaRDD<ImageEmbedding> embed(SparkSession spark, List<String> files, EmbedderSpec spec, JobOptions job,
                                         PartitionEmbedder.NoFace noFace) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int parts = job.partitionsFor(files.size(), jsc.defaultParallelism());
        int batch = job.batch;
        return jsc.parallelize(files, parts)
                .mapPartitions((Iterator<String> it) -> PartitionEmbedder.embed(it, spec, batch, noFace));
    }

    /**
     * Writes a DataFrame as Parquet into a hidden sibling folder, then renames it onto {@code out}: readers see no
     * output or the whole output, never a partial one (rename is atomic on HDFS and POSIX file systems).
     *
     * @param overwrite replace an existing {@code out} (deleted just before the rename)
     * @throws SphereKitException naming {@code out} when it exists without {@code overwrite}, or the rename fails
     */
    static void writeParquetAtomically(Dataset<Row> df, String out, boolean overwrite, Configuration conf)
            throws SphereKitException, IOException {
        Path target = new Path(out);
        FileSystem fs = target.getFileSystem(conf);
        if (fs.exists(target) && !overwrite) {
            throw new SphereKitException("output " + out + " already exists (pass --overwrite to replace it)");
        }
        Path parent = target.getParent() == null ? new Path(".") : target.getParent();
        Path tmp = new Path(parent, "." + target.getName() + ".tmp-" + UUID.randomUUID());
        try {
            df.write().parquet(tmp.toString());
            if (fs.exists(target)) {
                fs.delete(target, true);
            }
            if (!fs.rename(tmp, target)) {
                throw new SphereKitException("cannot rename " + tmp + " to " + out);
            }
        } finally {
            if (fs.exists(tmp)) {
                fs.delete(tmp, true);
            }
        }
    }

    /** @return the lines of a text list: stripped, without blank lines and {@code #} comments */
    static List<String> listLines(List<String> lines) {
        List<String> out = new ArrayList<>();
        for (String l : lines) {
            String s = l.strip();
            if (!s.isEmpty() && !s.startsWith("#")) {
                out.add(s);
            }
        }
        return out;
    }
}
