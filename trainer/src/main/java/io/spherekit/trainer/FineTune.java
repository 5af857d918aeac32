package io.spherekit.trainer;

import io.spherekit.core.ModelMetadata;
import io.spherekit.core.ModelMetadata.Key;
import io.spherekit.trainer.head.ASoftmaxHead;
import io.spherekit.trainer.model.SphereFaceNet;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Fine-tuning ({@code train --init-from MODEL.zip}): what is taken from a trained model and how.
 *
 * <ul>
 *   <li>Backbone: every parameter of every layer except the head ({@link SphereFaceNet#HEAD}) is copied, so the
 *       run starts from the trained embedding network. The architectures must match layer by layer (the same
 *       vertex names and parameter shapes: depth, width, embedding size, input size, BatchNorm); otherwise
 *       {@link #apply} fails naming the file, both architectures and the first differing parameter.</li>
 *   <li>Head: kept (its class weights copied) only when the model records the same identity set
 *       ({@link Key#TRAINING_IDENTITIES_SHA256}: SHA-256 over the identity names, in class order) and the same head
 *       type; otherwise a new head for this run's identities, initialised as from scratch. The reason is recorded.</li>
 *   <li>A-Softmax λ: {@code continue} evaluates the schedule at (the model's iterations + this run's iteration), so
 *       λ goes on from where the trained model stopped; {@code restart} starts again at the base. A model trained
 *       with another head has no λ to continue: then {@code restart} applies, and is recorded as such.</li>
 *   <li>The learning-rate schedule, the updater state (momentum) and the iteration counter start afresh.</li>
 * </ul>
 * The choices go into the new model's metadata ({@link Key#INIT_FROM}, {@link Key#INIT_FROM_HEAD},
 * {@link Key#INIT_FROM_LAMBDA}, {@link Key#INIT_FROM_ITERATIONS}, {@link Key#HEAD_LAMBDA_OFFSET}) and the train report.
 */
final class FineTune {

    /**
     * What a fine-tuning run takes from its source.
     *
     * @param file             the source model
     * @param source           its graph and metadata
     * @param sourceIterations the iterations the source was trained for
     * @param lambdaMode       {@code continue} or {@code restart}, as applied
     * @param lambdaOffset     added to this run's iteration in the λ schedule (0 for restart)
     */
    record Plan(Path file, ModelIO.TrainedModel source, int sourceIterations, String lambdaMode, int lambdaOffset) {
    }

    /** What {@link #apply} did. */
    record Applied(boolean headKept, String headReason, int parametersCopied) {
    }

    private FineTune() {
    }

    /**
     * Loads the source model and fixes the λ offset.
     *
     * @throws IOException naming the file when it cannot be loaded as a SphereKit model
     */
    static Plan plan(TrainConfig cfg) throws IOException {
        Path file = cfg.initFrom();
        ModelIO.TrainedModel src;
        try {
            src = ModelIO.load(file, false);
        } catch (IOException e) {
            throw new IOException("--init-from " + file + ": " + e.getMessage(), e);
        }
        ModelMetadata md = ModelMetadata.parse(src.metadata());
        int iters = md.integer(Key.TRAINING_ITERATIONS).orElse(src.graph().getConfiguration().getIterationCount());
        Layer srcHead = byName(src.graph()).get(SphereFaceNet.HEAD);
        boolean hadLambda = srcHead != null && srcHead.paramTable().containsKey(ASoftmaxHead.LAMBDA);
        String mode = cfg.lambdaScheduleMode();
        if ("continue".equals(mode) && !hadLambda) {
            mode = "restart";
        }
        return new Plan(file, src, iters, mode, "continue".equals(mode) ? iters : 0);
    }

    /**
     * Copies the backbone (and the head when it fits) from the plan's source into {@code dst}, a freshly initialised
     * network of this run.
     *
     * @param identities this run's class names, in class order
     * @param headName   this run's head type (e.g. {@code asoftmax})
     * @throws IllegalArgumentException naming the file when the architectures differ
     */
    static Applied apply(Plan plan, ComputationGraph dst, TrainConfig cfg, List<String> identities, String headName) {
        ComputationGraph src = plan.source().graph();
        ModelMetadata md = ModelMetadata.parse(plan.source().metadata());
        int copied = 0;
        Map<String, Layer> srcLayers = byName(src);
        Map<String, Layer> dstLayers = byName(dst);
        for (Layer l : dst.getLayers()) {
            String name = l.conf().getLayer().getLayerName();
            if (SphereFaceNet.HEAD.equals(name)) {
                continue;
            }
            Layer s = srcLayers.get(name);
            if (s == null) {
                throw incompatible(plan, md, cfg, "it has no layer '" + name + "'");
            }
            for (Map.Entry<String, INDArray> p : l.paramTable().entrySet()) {
                INDArray from = s.paramTable().get(p.getKey());
                if (from == null || !Arrays.equals(from.shape(), p.getValue().shape())) {
                    throw incompatible(plan, md, cfg, "layer " + name + " parameter " + p.getKey() + " is "
                            + (from == null ? "missing" : Arrays.toString(from.shape())) + " there and "
                            + Arrays.toString(p.getValue().shape()) + " here");
                }
                p.getValue().assign(from);
                copied += (int) from.length();
            }
        }
        for (Layer s : src.getLayers()) {
            String name = s.conf().getLayer().getLayerName();
            if (!SphereFaceNet.HEAD.equals(name) && !dstLayers.containsKey(name)) {
                throw incompatible(plan, md, cfg, "it has a layer '" + name + "' this run's network lacks");
            }
        }
        String reason = headReason(md, src, dst, identities, headName);
        if (reason == null) {
            Layer s = src.getLayer(SphereFaceNet.HEAD);
            for (Map.Entry<String, INDArray> p : dst.getLayer(SphereFaceNet.HEAD).paramTable().entrySet()) {
                if (!ASoftmaxHead.LAMBDA.equals(p.getKey())) { // λ is set by the schedule at every step
                    p.getValue().assign(s.paramTable().get(p.getKey()));
                    copied += (int) p.getValue().length();
                }
            }
            return new Applied(true, "kept (same " + identities.size() + " identities, same head " + headName + ")",
                    copied);
        }
        return new Applied(false, reason, copied);
    }

    /** The graph's layers by name (DL4J's getLayer throws for an unknown name). */
    private static Map<String, Layer> byName(ComputationGraph g) {
        Map<String, Layer> m = new java.util.HashMap<>();
        for (Layer l : g.getLayers()) {
            m.put(l.conf().getLayer().getLayerName(), l);
        }
        return m;
    }

    /** @return null when the source's head can be kept, else why a new head is made */
    private static String headReason(ModelMetadata md, ComputationGraph src, ComputationGraph dst,
                                     List<String> identities, String headName) {
        String srcHead = md.head().orElse("unknown");
        if (!srcHead.equals(headName)) {
            return "new (the model's head is " + srcHead + ", this run's " + headName + ")";
        }
        Layer s = byName(src).get(SphereFaceNet.HEAD);
        Layer d = dst.getLayer(SphereFaceNet.HEAD);
        if (s == null) {
            return "new (the model has no head layer)";
        }
        for (Map.Entry<String, INDArray> p : d.paramTable().entrySet()) {
            INDArray from = s.paramTable().get(p.getKey());
            if (from == null || !Arrays.equals(from.shape(), p.getValue().shape())) {
                long srcClasses = from == null || from.rank() < 2 ? -1 : from.size(1);
                return "new (the model has " + (srcClasses < 0 ? "another head layout" : srcClasses + " classes")
                        + ", this run " + identities.size() + ")";
            }
        }
        String recorded = md.get(Key.TRAINING_IDENTITIES_SHA256).orElse(null);
        if (recorded == null) {
            return "new (the model records no identity list, " + Key.TRAINING_IDENTITIES_SHA256
                    + ", so its classes cannot be matched to this run's " + identities.size() + ")";
        }
        if (!recorded.equals(identitiesSha256(identities))) {
            return "new (same class count " + identities.size() + ", but another identity set)";
        }
        return null;
    }

    private static IllegalArgumentException incompatible(Plan plan, ModelMetadata md, TrainConfig cfg, String detail) {
        String theirs = md.get(Key.NETWORK).orElse("an unknown network") + " width "
                + md.get(Key.WIDTH_MULTIPLIER).orElse("?") + ", " + md.get(Key.EMBEDDING_DIM).orElse("?") + "-d, input "
                + md.get(Key.INPUT_HEIGHT).orElse("?") + "x" + md.get(Key.INPUT_WIDTH).orElse("?");
        String ours = "sphereface-" + cfg.depth() + (cfg.batchNorm() ? "-bn" : "") + " width " + cfg.widthMultiplier()
                + ", " + cfg.embeddingDim() + "-d, input " + cfg.inputHeight() + "x" + cfg.inputWidth();
        return new IllegalArgumentException(String.format(Locale.ROOT, "--init-from %s: its backbone is %s, this run's is %s:"
                + " %s; train with the model's --depth/--width/--embedding-dim/--input/--batchnorm, or from scratch",
                plan.file(), theirs, ours, detail));
    }

    /** SHA-256 (hex) over the identity names in class order, each followed by a newline (UTF-8). */
    static String identitiesSha256(List<String> identities) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String id : identities) {
                md.update(Objects.requireNonNull(id).getBytes(StandardCharsets.UTF_8));
                md.update((byte) '\n');
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }
}
