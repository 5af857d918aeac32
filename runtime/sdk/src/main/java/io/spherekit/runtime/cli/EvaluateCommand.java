package io.spherekit.runtime.cli;

import io.spherekit.core.cli.Cli;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spherekit.core.SphereKitException;
import io.spherekit.core.TestTimeFlip;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.ModelThreshold;
import io.spherekit.runtime.Verifier;
import io.spherekit.core.eval.PairList;
import io.spherekit.core.eval.VerificationEvaluation;
import io.spherekit.core.eval.VerificationEvaluation.Result;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code spherekit evaluate}: LFW-protocol verification accuracy of a model on a pair list. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Embed every distinct image of an LFW pair list once, score pairs by cosine and report"
                + " 10-fold accuracy, optimistic accuracy, AUC, EER and TAR@FAR.")
public final class EvaluateCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--pairs", required = true, paramLabel = "FILE",
            description = "pairs.txt, pairsDevTest.txt or pairsDevTrain.txt.")
    Path pairs;

    @Option(names = "--root", required = true, paramLabel = "DIR",
            description = "Image root holding NAME/NAME_NNNN.jpg (e.g. lfw-deepfunneled).")
    Path root;

    @Option(names = "--report", paramLabel = "OUT.json", description = "Write the full report as JSON (atomically).")
    Path report;

    @Option(names = "--roc", paramLabel = "OUT.csv", description = "Write ROC points (threshold,far,tar) as CSV.")
    Path roc;

    @Option(names = "--extra-json", paramLabel = "FILE.json",
            description = "A JSON object (e.g. the training report) embedded in the report under \"training\".")
    Path extraJson;

    @Option(names = "--skip-missing", description = "Drop pairs whose images are missing (and count them)"
            + " instead of failing.")
    boolean skipMissing;

    @Option(names = "--write-threshold", description = "Write the mean 10-fold threshold into the model's"
            + " metadata (spherekit.threshold, with spherekit.threshold.source '<pairs file"
            + " name> 10-fold mean') together with the test-time flip it was calibrated with (spherekit.input.flip,"
            + " removed for none), replacing the ONNX file atomically, so that verify and serve use it, in that"
            + " flip mode, without --threshold. The file's bytes change, and with them its id (its hash) unless the"
            + " metadata sets one.")
    boolean writeThreshold;

    @Mixin
    BatchOption batchOption;

    @Override
    public Integer call() throws Exception {
        int batch = batchOption.validated(spec);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        JsonNode training = extraJson == null ? null : JsonFiles.readObject(extraJson);
        PairList list = PairList.read(pairs, root,
                skipMissing ? PairList.MissingImages.SKIP : PairList.MissingImages.FAIL);
        if (list.skippedPairs() > 0) {
            err.printf(Locale.ROOT, "warning: skipped %d pairs with %d missing images%n", list.skippedPairs(),
                    list.missingImages().size());
        }
        List<Path> images = list.distinctImages();
        try (FaceEmbedder embedder = modelOptions.open()) {
            // aligned mode: an image without a usable face is embedded from the fixed crop, counted and listed
            EmbeddingJob.Output emb = EmbeddingJob.run(embedder, images, batch, err, EmbeddingJob.NoFace.CROP);
            Map<Path, float[]> byPath = new HashMap<>();
            for (int i = 0; i < images.size(); i++) {
                byPath.put(images.get(i), emb.embeddings()[i]);
            }
            double[] scores = EvaluationReport.scores(list, byPath);
            Result r = VerificationEvaluation.evaluate(scores, list.genuine(), list.foldIndices());
            out.println(r.summary());
            out.printf(Locale.ROOT, "provider: %s (%s)%n", embedder.provider(), embedder.providerReason());
            out.printf(Locale.ROOT, "flip: %s (%d-d embeddings)%n", embedder.flip().id(), embedder.embeddingDim());
            out.printf(Locale.ROOT, "images: %d embedded in %.1f s (%.1f img/s, batch %d)%n", images.size(),
                    emb.seconds(), emb.imagesPerSecond(), batch);
            if (embedder.detector() != null) {
                out.printf(Locale.ROOT, "alignment: detect + align onto %s; face found in %d/%d images (%.2f%%),"
                        + " %d embedded from the fixed crop instead%n", embedder.alignmentTemplate().name(),
                        images.size() - emb.cropFallbacks().size(), images.size(),
                        100.0 * (images.size() - emb.cropFallbacks().size()) / Math.max(1, images.size()),
                        emb.cropFallbacks().size());
            } else {
                out.println("alignment: fixed crop");
            }
            if (list.skippedPairs() > 0) {
                out.printf(Locale.ROOT, "skipped: %d pairs (%d missing images)%n", list.skippedPairs(),
                        list.missingImages().size());
            }
            if (roc != null) {
                r.writeRocCsv(roc);
                out.println("roc: " + roc);
            }
            ObjectNode written = null;
            if (writeThreshold) {
                written = writeThreshold(r, embedder.flip());
                out.printf(Locale.ROOT, "threshold: wrote %s=%s (%s) into %s%s; flip %s%n", Verifier.THRESHOLD_KEY,
                        written.get("value").asText(), written.get("source").asText(), modelOptions.model(),
                        written.hasNonNull("previous") ? ", replacing " + written.get("previous").asText() : "",
                        embedder.flip().id());
            }
            if (report != null) {
                ObjectNode j = reportJson(embedder, list, emb, r, training);
                if (written != null) {
                    j.set("threshold_written", written);
                }
                JsonFiles.writeAtomically(report, j);
                out.println("report: " + report);
            }
            out.flush();
            return Cli.OK;
        }
    }

    /** Records the mean 10-fold threshold in the model file; returns what was written, for the report. */
    private ObjectNode writeThreshold(Result r, TestTimeFlip flip) throws SphereKitException {
        return EvaluationReport.writeThreshold(modelOptions.model(), pairs, r, flip);
    }

    private ObjectNode reportJson(FaceEmbedder embedder, PairList list, EmbeddingJob.Output emb, Result r,
                                  JsonNode training) {
        return EvaluationReport.json(embedder, modelOptions.model, pairs, root, list, r, emb.embeddings().length,
                emb.cropFallbacks(), batchOption.batch, emb.seconds(), training);
    }
}
