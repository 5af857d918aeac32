package io.spherekit.runtime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spherekit.core.eval.PairList;
import io.spherekit.core.eval.VerificationEvaluation;
import io.spherekit.core.eval.VerificationEvaluation.Result;
import io.spherekit.core.Similarity;
import io.spherekit.core.SphereKitException;
import io.spherekit.core.TestTimeFlip;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.ModelThreshold;
import io.spherekit.runtime.Verifier;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The JSON report of {@code evaluate} (LFW-protocol 10-fold verification), shared by the local command and the
 * batch jobs that score a pair list elsewhere (e.g. on Apache Spark), so both write the same fields.
 */
public final class EvaluationReport {

    private EvaluationReport() {
    }

    /**
     * Scores every pair of a list by the cosine similarity of its two images' embeddings.
     *
     * @param list   the pair list
     * @param byPath the embedding of every image of {@link PairList#distinctImages()}
     * @return one cosine in [-1, 1] per pair, in list order
     * @throws IllegalArgumentException naming the pair-list line when a pair cannot be scored (missing or
     *                                  zero-norm embedding, lengths differ)
     */
    public static double[] scores(PairList list, Map<Path, float[]> byPath) {
        double[] scores = new double[list.size()];
        for (int i = 0; i < scores.length; i++) {
            PairList.Pair p = list.pairs().get(i);
            try {
                float[] a = byPath.get(p.first());
                float[] b = byPath.get(p.second());
                if (a == null || b == null) {
                    throw new IllegalArgumentException("no embedding for " + (a == null ? p.first() : p.second()));
                }
                scores[i] = Similarity.cosine(a, b);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(list.source() + ":" + p.line() + ": cannot score " + p.first()
                        + " vs " + p.second() + ": " + e.getMessage(), e);
            }
        }
        return scores;
    }

    /**
     * Builds the report.
     *
     * @param embedder         the embedder that produced the embeddings (metadata, preprocessing, alignment, provider)
     * @param model            the model path as given by the user
     * @param pairs            the pair-list file
     * @param root             the image root
     * @param list             the parsed pair list (skipped pairs, missing images)
     * @param r                the metrics of {@link VerificationEvaluation#evaluate}
     * @param images           number of distinct images embedded
     * @param cropFallbacks    images embedded from the fixed crop because no usable face was found (sorted)
     * @param batch            inference batch size
     * @param embeddingSeconds wall-clock seconds spent decoding + embedding
     * @param training         a JSON object stored under {@code training}, or {@code null}
     * @return the report (keys as documented in the README's evaluate section)
     */
    public static ObjectNode json(FaceEmbedder embedder, Path model, Path pairs, Path root, PairList list, Result r,
                                  int images, List<String> cropFallbacks, int batch, double embeddingSeconds,
                                  JsonNode training) {
        ObjectNode j = JsonFiles.MAPPER.createObjectNode();
        j.put("created", Instant.now().toString());
        j.put("model", model.toString());
        ObjectNode md = j.putObject("model_metadata");
        embedder.metadata().forEach(md::put);
        j.put("preprocessing", embedder.preprocessing().toString());
        ObjectNode al = j.putObject("alignment");
        if (embedder.detector() == null) {
            al.put("mode", "crop");
        } else {
            al.put("mode", "detect");
            al.put("template", embedder.alignmentTemplate().name());
            al.put("detector", embedder.detector().modelPath().toString());
            al.put("detector_min_score", embedder.detector().minScore());
            al.put("images", images);
            al.put("faces_found", images - cropFallbacks.size());
            al.put("detection_rate", (images - cropFallbacks.size())
                    / (double) Math.max(1, images));
            ArrayNode fb = al.putArray("crop_fallback_images");
            cropFallbacks.forEach(fb::add);
        }
        j.put("embedding_dim", embedder.embeddingDim());
        j.put("model_embedding_dim", embedder.modelEmbeddingDim());
        j.put("flip", embedder.flip().id());
        j.put("provider", embedder.provider().name());
        j.put("provider_reason", embedder.providerReason());
        j.put("pairs_file", pairs.toString());
        j.put("image_root", root.toString());
        j.put("pairs", r.pairs());
        j.put("genuine_pairs", r.genuinePairs());
        j.put("impostor_pairs", r.impostorPairs());
        j.put("skipped_pairs", list.skippedPairs());
        ArrayNode missing = j.putArray("missing_images");
        list.missingImages().forEach(p -> missing.add(p.toString()));
        j.put("images", images);
        j.put("batch", batch);
        j.put("embedding_seconds", embeddingSeconds);
        j.put("images_per_second", embeddingSeconds > 0 ? images / embeddingSeconds : 0);
        ObjectNode m = j.putObject("metrics");
        m.put("folds", r.foldIds().length);
        m.put("accuracy_mean", r.meanAccuracy());
        m.put("accuracy_std", r.stdAccuracy());
        m.put("accuracy_std_kind", "population (divisor K)");
        m.put("accuracy_sample_std", r.sampleStdAccuracy());
        m.put("accuracy_standard_error", r.standardError());
        ArrayNode fa = m.putArray("fold_accuracies");
        for (double a : r.foldAccuracies()) {
            fa.add(a);
        }
        ArrayNode ft = m.putArray("fold_thresholds");
        for (double t : r.foldThresholds()) {
            ft.add(t);
        }
        m.put("threshold_mean", r.meanThreshold());
        m.put("optimistic_accuracy", r.optimisticAccuracy());
        m.put("optimistic_threshold", r.optimisticThreshold());
        m.put("auc", r.auc());
        m.put("eer", r.eer());
        ArrayNode taf = m.putArray("tar_at_far");
        for (VerificationEvaluation.TarAtFar t : r.tarAtFar()) {
            ObjectNode o = taf.addObject();
            o.put("far_target", t.targetFar());
            o.put("tar", t.tar());
            o.put("far", t.far());
            o.put("threshold", t.threshold());
        }
        ArrayNode rocNode = j.putArray("roc");
        for (VerificationEvaluation.RocPoint p : r.roc()) {
            ObjectNode o = rocNode.addObject();
            if (Double.isInfinite(p.threshold())) {
                o.putNull("threshold");
            } else {
                o.put("threshold", p.threshold());
            }
            o.put("far", p.far());
            o.put("tar", p.tar());
        }
        if (training != null) {
            j.set("training", training);
        }
        return j;
    }

    /**
     * {@code evaluate --write-threshold}: records the mean 10-fold threshold of {@code r} in the model's metadata
     * ({@link ModelThreshold#write}, with source {@code "<pairs file name> 10-fold mean"} and the test-time flip the
     * embeddings were made with), replacing the ONNX file atomically.
     *
     * @param model the ONNX model file the embeddings came from
     * @param pairs the pair list the threshold was chosen on
     * @param r     the 10-fold result
     * @param flip  the embedder's test-time flip ({@link FaceEmbedder#flip()})
     * @return the report's {@code threshold_written} object: key, value, source, flip, previous (or null)
     * @throws SphereKitException naming the model when the mean threshold is not a cosine in [-1, 1] or the file
     *                            cannot be rewritten
     */
    public static ObjectNode writeThreshold(Path model, Path pairs, Result r, TestTimeFlip flip)
            throws SphereKitException {
        double t = r.meanThreshold();
        if (!Double.isFinite(t) || t < -1 || t > 1) {
            throw new SphereKitException("cannot write the threshold into " + model + ": the mean"
                    + " 10-fold threshold on " + pairs + " is " + t + ", not a cosine in [-1,1]");
        }
        String source = pairs.getFileName() + " 10-fold mean";
        String previous = ModelThreshold.write(model, t, source, flip);
        ObjectNode w = JsonFiles.MAPPER.createObjectNode();
        w.put("key", Verifier.THRESHOLD_KEY);
        w.put("value", Double.toString(t));
        w.put("source", source);
        w.put("flip", flip.id());
        if (previous != null) {
            w.put("previous", previous);
        } else {
            w.putNull("previous");
        }
        return w;
    }

    /**
     * Writes a report atomically ({@link io.spherekit.core.io.AtomicFiles}), creating the target's folder.
     *
     * @throws IOException naming the target when it cannot be written
     */
    public static void write(Path target, JsonNode report) throws IOException {
        JsonFiles.writeAtomically(target, report);
    }
}
