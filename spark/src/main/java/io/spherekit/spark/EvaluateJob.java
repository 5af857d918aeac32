package io.spherekit.spark;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spherekit.core.SphereKitException;
import io.spherekit.core.cli.Cli;
import io.spherekit.core.eval.PairList;
import io.spherekit.core.eval.VerificationEvaluation;
import io.spherekit.core.eval.VerificationEvaluation.Result;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.cli.EvaluationReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Spark job (2): scores an LFW pair list and writes the same 10-fold verification report as the local
 * {@code evaluate} ({@link EvaluationReport}, metrics from {@link VerificationEvaluation}).
 *
 * <p>The distinct images are embedded on the executors (one session per executor JVM, batched
 * {@code mapPartitions}); an image without a usable face (aligned mode) is embedded from the fixed crop and listed,
 * as {@code evaluate} does. The embeddings (D floats per image) are collected on the driver, which scores the pairs
 * by cosine and computes the report. The pair list and the image root are read on the driver (the pair list checks
 * that every image exists), so the root must be a folder the driver and the executors both see (a shared mount;
 * local mode). A file that cannot be read or decoded fails the job, naming it.
 */
@Command(name = "spark-evaluate", mixinStandardHelpOptions = true,
        description = "Score an LFW pair list on Apache Spark: 10-fold accuracy, optimistic accuracy, AUC, EER and"
                + " TAR@FAR, the same report as evaluate.")
public final class EvaluateJob implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    JobOptions jobOptions;

    @Option(names = "--pairs", required = true, paramLabel = "FILE",
            description = "pairs.txt, pairsDevTest.txt or pairsDevTrain.txt (on the driver).")
    Path pairs;

    @Option(names = "--root", required = true, paramLabel = "DIR",
            description = "Image root holding NAME/NAME_NNNN.jpg, seen by the driver and the executors.")
    Path root;

    @Option(names = "--report", required = true, paramLabel = "OUT.json",
            description = "The report as JSON, written atomically.")
    Path report;

    @Option(names = "--skip-missing", description = "Drop pairs whose images are missing (and count them) instead"
            + " of failing.")
    boolean skipMissing;

    @Option(names = "--write-threshold", description = "As evaluate --write-threshold: write the mean 10-fold"
            + " threshold into the model's metadata (spherekit.threshold, spherekit.threshold.source '<pairs file"
            + " name> 10-fold mean') with the test-time flip it was calibrated with (spherekit.input.flip, removed for"
            + " none), replacing the ONNX file on the driver atomically.")
    boolean writeThreshold;

    /** Runs the job on spark-submit's master. */
    public static void main(String[] args) {
        Cli.exit(new EvaluateJob(), args);
    }

    @Override
    public Integer call() throws Exception {
        jobOptions.validate();
        EmbedderSpec es = modelOptions.spec();
        PrintWriter out = spec.commandLine().getOut();
        PairList list = PairList.read(pairs, root,
                skipMissing ? PairList.MissingImages.SKIP : PairList.MissingImages.FAIL);
        if (list.skippedPairs() > 0) {
            spec.commandLine().getErr().printf(Locale.ROOT, "warning: skipped %d pairs with %d missing images%n",
                    list.skippedPairs(), list.missingImages().size());
        }
        List<Path> images = list.distinctImages();
        Map<String, Path> byUri = new HashMap<>();
        List<String> uris = new ArrayList<>(images.size());
        for (Path p : images) {
            String u = p.toAbsolutePath().toUri().toString(); // file:///...: a local (shared) file on every node
            byUri.put(u, p);
            uris.add(u);
        }
        try (SparkJobs.Session s = SparkJobs.session("spherekit-evaluate", jobOptions.master)) {
            SparkSession spark = s.spark();
            FaceEmbedder embedder = EmbedderHolder.get(es); // fails fast on a bad model; the report's model fields
            long t0 = System.nanoTime();
            List<ImageEmbedding> results = SparkJobs.embed(spark, uris, es, jobOptions,
                    PartitionEmbedder.NoFace.CROP).collect();
            double seconds = (System.nanoTime() - t0) / 1e9;
            Map<Path, float[]> byPath = new HashMap<>();
            List<String> fallbacks = new ArrayList<>();
            List<String> failed = new ArrayList<>();
            for (ImageEmbedding r : results) {
                Path p = byUri.get(r.file());
                if (!r.embedded()) {
                    failed.add(r.reason());
                    continue;
                }
                byPath.put(p, r.embedding());
                if (ImageEmbedding.CROP_FALLBACK.equals(r.status())) {
                    fallbacks.add(p.toString());
                }
            }
            if (!failed.isEmpty()) {
                Collections.sort(failed);
                throw new SphereKitException(failed.size() + " of the " + images.size() + " images of " + pairs
                        + " could not be embedded: " + String.join("; ", failed.subList(0, Math.min(5,
                        failed.size()))) + (failed.size() > 5 ? "; ..." : ""));
            }
            Collections.sort(fallbacks);
            double[] scores = EvaluationReport.scores(list, byPath);
            Result r = VerificationEvaluation.evaluate(scores, list.genuine(), list.foldIndices());
            ObjectNode j = EvaluationReport.json(embedder, modelOptions.model, pairs, root, list, r, images.size(),
                    fallbacks, jobOptions.batch, seconds, null);
            ObjectNode engine = j.putObject("engine");
            engine.put("name", "spark");
            engine.put("spark_version", spark.version());
            engine.put("master", spark.sparkContext().master());
            engine.put("partitions", jobOptions.partitionsFor(uris.size(), spark.sparkContext().defaultParallelism()));
            if (writeThreshold) {
                ObjectNode written = EvaluationReport.writeThreshold(modelOptions.model, pairs, r, embedder.flip());
                j.set("threshold_written", written);
                out.printf(Locale.ROOT, "threshold: wrote %s=%s (%s) into %s%s; flip %s%n",
                        written.get("key").asText(), written.get("value").asText(), written.get("source").asText(),
                        modelOptions.model, written.hasNonNull("previous") ? ", replacing "
                                + written.get("previous").asText() : "", embedder.flip().id());
            }
            EvaluationReport.write(report, j);
            out.println(r.summary());
            out.printf(Locale.ROOT, "provider: %s (%s)%n", embedder.provider(), embedder.providerReason());
            out.printf(Locale.ROOT, "flip: %s (%d-d embeddings)%n", embedder.flip().id(), embedder.embeddingDim());
            out.printf(Locale.ROOT, "images: %d embedded in %.1f s (%.1f img/s, batch %d, %s)%n", images.size(),
                    seconds, images.size() / seconds, jobOptions.batch, spark.sparkContext().master());
            out.println(embedder.detector() == null ? "alignment: fixed crop"
                    : String.format(Locale.ROOT, "alignment: detect + align; %d of %d images embedded from the fixed"
                            + " crop (no usable face)", fallbacks.size(), images.size()));
            out.println("report: " + report);
            out.flush();
            return Cli.OK;
        }
    }
}
