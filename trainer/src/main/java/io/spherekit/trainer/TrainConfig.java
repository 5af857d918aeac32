package io.spherekit.trainer;

import io.spherekit.trainer.data.Augmentation;
import io.spherekit.trainer.head.ASoftmaxHead;
import io.spherekit.trainer.head.AmSoftmaxHead;
import io.spherekit.trainer.head.ArcFaceHead;
import io.spherekit.trainer.head.LambdaSchedule;
import io.spherekit.trainer.head.MarginHead;
import io.spherekit.trainer.head.SoftmaxHead;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Every training hyper-parameter, with the defaults of the end-to-end demo. Defaults follow the paper where the CPU
 * budget allows and say so where they do not. Built by name ({@link #builder()}), so two parameters of the same type
 * cannot be swapped by position; {@link Builder#build()} validates every value and throws
 * {@link IllegalArgumentException} naming the parameter and the value.
 *
 * <p>Parameters (accessor and builder setter of the same name):
 * <ul>
 *   <li>{@code imageRoot} (required): person-per-folder image root (LFW: {@code lfw-deepfunneled})</li>
 *   <li>{@code peopleFile} (default none): optional LFW people list restricting identities ({@code peopleDevTrain.txt}); null = all folders</li>
 *   <li>{@code minImages} (default 2): identities with fewer images are dropped (2: 1184 DevTrain people, 6671 images)</li>
 *   <li>{@code maxIdentities} (default 0): 0 = all; otherwise only the first N identities (tiny runs, tests)</li>
 *   <li>{@code outputDir} (required): run directory: model, report, log</li>
 *   <li>{@code depth} (default 4): SphereFace depth: 4, 10, 20, 36 or 64</li>
 *   <li>{@code widthMultiplier} (default 0.5): channel multiplier on 64/128/256/512 ({@code width} in the CLI), in (0, 4]</li>
 *   <li>{@code embeddingDim} (default 512): fc5 size (paper: 512)</li>
 *   <li>{@code head} (default asoftmax): {@code asoftmax}, {@code amsoftmax}, {@code arcface} or {@code softmax}</li>
 *   <li>{@code m} (default 4): A-Softmax angular margin, 1..4 (paper: 4); the other heads need the default</li>
 *   <li>{@code lambdaBase} (default 1000): λ schedule base, see {@link LambdaSchedule}</li>
 *   <li>{@code lambdaGamma} (default 0.12): λ schedule γ; NaN = auto, the γ that reaches λ_min at the run's last
 *   iteration ({@link LambdaSchedule#gammaReachingFloorAt})</li>
 *   <li>{@code lambdaPower} (default 1): λ schedule power</li>
 *   <li>{@code lambdaMin} (default 5): λ floor</li>
 *   <li>{@code epochs} (default 8): passes over the training set, ≥ 1</li>
 *   <li>{@code batchSize} (default 32): images per iteration, ≥ 2</li>
 *   <li>{@code lr} (default 0.01): base learning rate for weights (biases get 2×, Caffe lr_mult 2), &gt; 0</li>
 *   <li>{@code lrSchedule} (default step): {@code step} (×0.1 at 60% and 85% of training) or {@code cosine}</li>
 *   <li>{@code warmup} (default 0): linear warm-up iterations (0 = none)</li>
 *   <li>{@code momentum} (default 0.9): Nesterov momentum in [0, 1) (paper: 0.9 classic momentum; DL4J offers Nesterov only)</li>
 *   <li>{@code weightDecay} (default 5e-4): L2 on weights (paper: 5e-4)</li>
 *   <li>{@code flip} (default true): random horizontal flip</li>
 *   <li>{@code seed} (default 42): RNG seed: init, shuffling and flips</li>
 *   <li>{@code threads} (default 2): image decoding threads, ≥ 1</li>
 *   <li>{@code valFraction} (default 0.1): fraction of identities held out (never trained) for the per-epoch 10-fold check, in [0, 0.5); 0 = none</li>
 *   <li>{@code scale} (default NaN): s of AM-Softmax (default 30) and ArcFace (default 64); NaN = the head's default</li>
 *   <li>{@code scaleAuto} (default false): s = √2·ln(C − 1) for C classes, the fixed scale of AdaCos (Zhang et al.,
 *       "AdaCos", CVPR 2019, Sec. 4.1), ≈ 10.0 for 1184 identities instead of 30/64; excludes {@code scale}</li>
 *   <li>{@code margin} (default NaN): m of AM-Softmax (cosine margin, default 0.35) and ArcFace (angular margin, default 0.5); NaN = the head's default</li>
 *   <li>{@code cropMargin} (default 2): random-crop augmentation in pixels, in [0, 16]: images are cached this many pixels larger per side and a random 112×96 window is taken (clcarwin/sphereface_pytorch: 2, i.e. from 116×100); 0 = off</li>
 *   <li>{@code augmentation} (default {@link Augmentation#NONE}): scale/rotation jitter about the alignment,
 *       colour jitter and random erasing on top of flip and crop; see {@link Augmentation}</li>
 *   <li>{@code labelSmoothing} (default 0): ε of label smoothing in [0, 1), for every head
 *       ({@link io.spherekit.trainer.head.MarginHeadLayer#setLabelSmoothing})</li>
 *   <li>{@code cacheDir} (default none): where decoded images are cached between runs (null = no cache)</li>
 *   <li>{@code checkpointEvery} (default 200): write a checkpoint every N iterations (and at every epoch end); 0 = epoch ends only</li>
 *   <li>{@code inputHeight} (default 112): network input height in pixels, 32..1024 (paper: 112); the LFW crop box is resampled to it</li>
 *   <li>{@code inputWidth} (default 96): network input width in pixels, 32..1024 (paper: 96)</li>
 *   <li>{@code batchNorm} (default false): BatchNormalization after every conv (later SphereFace work); off for fidelity</li>
 *   <li>{@code failOnCorrupt} (default false): fail on the first undecodable image instead of skipping and counting it</li>
 *   <li>{@code align} (default {@code crop}): {@code crop} takes the fixed crop box; {@code detect} aligns each image's
 *       largest detected face onto the input size's template (the runtime's detector and template)</li>
 *   <li>{@code landmarksFile} (default none): with {@code detect}, the {@code spherekit landmarks} file to read; none =
 *       run that command (cached under {@code cacheDir})</li>
 *   <li>{@code initFrom} (default none): a trained {@code model.zip} to fine-tune from: its backbone parameters are
 *       copied (same depth, width, embedding size, input size and BatchNorm), its head too when the identity set
 *       and the head type match (see {@code Trainer}), else the head is new</li>
 *   <li>{@code lambdaScheduleMode} (default {@code continue}): with {@code initFrom}, A-Softmax's λ continues from the
 *       saved model's iteration count ({@code continue}) or starts again at the schedule's base ({@code restart})</li>
 * </ul>
 */
public final class TrainConfig {
    private final Path imageRoot;
    private final Path peopleFile;
    private final int minImages;
    private final int maxIdentities;
    private final Path outputDir;
    private final int depth;
    private final double widthMultiplier;
    private final int embeddingDim;
    private final String head;
    private final int m;
    private final double lambdaBase;
    private final double lambdaGamma;
    private final double lambdaPower;
    private final double lambdaMin;
    private final int epochs;
    private final int batchSize;
    private final double lr;
    private final String lrSchedule;
    private final int warmup;
    private final double momentum;
    private final double weightDecay;
    private final boolean flip;
    private final long seed;
    private final int threads;
    private final double valFraction;
    private final double scale;
    private final boolean scaleAuto;
    private final double margin;
    private final int cropMargin;
    private final Augmentation augmentation;
    private final double labelSmoothing;
    private final Path cacheDir;
    private final int checkpointEvery;
    private final int inputHeight;
    private final int inputWidth;
    private final boolean batchNorm;
    private final boolean failOnCorrupt;
    private final String align;
    private final Path landmarksFile;
    private final Path initFrom;
    private final String lambdaScheduleMode;

    private TrainConfig(Builder b) {
        imageRoot = b.imageRoot;
        peopleFile = b.peopleFile;
        minImages = b.minImages;
        maxIdentities = b.maxIdentities;
        outputDir = b.outputDir;
        depth = b.depth;
        widthMultiplier = b.widthMultiplier;
        embeddingDim = b.embeddingDim;
        head = b.head;
        m = b.m;
        lambdaBase = b.lambdaBase;
        lambdaGamma = b.lambdaGamma;
        lambdaPower = b.lambdaPower;
        lambdaMin = b.lambdaMin;
        epochs = b.epochs;
        batchSize = b.batchSize;
        lr = b.lr;
        lrSchedule = b.lrSchedule;
        warmup = b.warmup;
        momentum = b.momentum;
        weightDecay = b.weightDecay;
        flip = b.flip;
        seed = b.seed;
        threads = b.threads;
        valFraction = b.valFraction;
        scale = b.scale;
        scaleAuto = b.scaleAuto;
        margin = b.margin;
        cropMargin = b.cropMargin;
        augmentation = Objects.requireNonNull(b.augmentation, "augmentation is required (Augmentation.NONE for none)");
        labelSmoothing = b.labelSmoothing;
        cacheDir = b.cacheDir;
        checkpointEvery = b.checkpointEvery;
        inputHeight = b.inputHeight;
        inputWidth = b.inputWidth;
        batchNorm = b.batchNorm;
        failOnCorrupt = b.failOnCorrupt;
        align = b.align;
        landmarksFile = b.landmarksFile;
        initFrom = b.initFrom;
        lambdaScheduleMode = b.lambdaScheduleMode;
        if (!"continue".equals(lambdaScheduleMode) && !"restart".equals(lambdaScheduleMode)) {
            throw new IllegalArgumentException("lambda schedule must be continue or restart, got " + lambdaScheduleMode);
        }
        Objects.requireNonNull(imageRoot, "imageRoot is required");
        Objects.requireNonNull(outputDir, "outputDir is required");
        Objects.requireNonNull(head, "head is required");
        Objects.requireNonNull(lrSchedule, "lrSchedule is required");
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        if (batchSize < 2) {
            throw new IllegalArgumentException("batch size must be >= 2, got " + batchSize);
        }
        if (!List.of("asoftmax", "amsoftmax", "arcface", "softmax").contains(head)) {
            throw new IllegalArgumentException("head must be asoftmax, amsoftmax, arcface or softmax, got '" + head + "'");
        }
        if (!head.equals("asoftmax") && m != 4) {
            throw new IllegalArgumentException("--m (integer A-Softmax margin) applies to the asoftmax head only; "
                    + "use --margin for " + head);
        }
        if (head.equals("asoftmax") || head.equals("softmax")) {
            if (!Double.isNaN(scale) || !Double.isNaN(margin) || scaleAuto) {
                throw new IllegalArgumentException("--scale/--margin apply to amsoftmax and arcface only, not " + head);
            }
        }
        if (scaleAuto && !Double.isNaN(scale)) {
            throw new IllegalArgumentException("give --scale as a number or as auto, not both (got " + scale + " and auto)");
        }
        if (!(valFraction >= 0 && valFraction < 0.5)) {
            throw new IllegalArgumentException("val fraction must be in [0, 0.5), got " + valFraction);
        }
        if (inputHeight < 32 || inputWidth < 32 || inputHeight > 1024 || inputWidth > 1024) {
            throw new IllegalArgumentException("input size must be within 32..1024 per side, got " + inputHeight + "x" + inputWidth);
        }
        if (!"crop".equals(align) && !"detect".equals(align)) {
            throw new IllegalArgumentException("align must be crop or detect, got " + align);
        }
        if (landmarksFile != null && !"detect".equals(align)) {
            throw new IllegalArgumentException("a landmarks file needs align detect");
        }
        if (cropMargin < 0 || cropMargin > 16) {
            throw new IllegalArgumentException("crop margin must be in [0, 16], got " + cropMargin);
        }
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
            throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + labelSmoothing);
        }
        if (checkpointEvery < 0) {
            throw new IllegalArgumentException("checkpoint interval must be >= 0, got " + checkpointEvery);
        }
        if (minImages < 1) {
            throw new IllegalArgumentException("min images must be >= 1, got " + minImages);
        }
        // checked here, before any data is read, so a bad value is a usage error (exit 2) up front
        if (!List.of(4, 10, 20, 36, 64).contains(depth)) {
            throw new IllegalArgumentException("depth must be one of 4, 10, 20, 36, 64; got " + depth);
        }
        if (!(widthMultiplier > 0 && widthMultiplier <= 4)) {
            throw new IllegalArgumentException("width multiplier must be in (0, 4], got " + widthMultiplier);
        }
        if (embeddingDim < 1) {
            throw new IllegalArgumentException("embedding dim must be >= 1, got " + embeddingDim);
        }
        if (head.equals("asoftmax") && (m < 1 || m > 4)) {
            throw new IllegalArgumentException("--m must be in 1..4 for asoftmax, got " + m);
        }
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("learning rate must be > 0, got " + lr);
        }
        if (!"step".equals(lrSchedule) && !"cosine".equals(lrSchedule)) {
            throw new IllegalArgumentException("lr schedule must be step or cosine, got '" + lrSchedule + "'");
        }
        if (warmup < 0) {
            throw new IllegalArgumentException("warm-up iterations must be >= 0, got " + warmup);
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
    }

    /** A builder with the demo's defaults; {@code imageRoot} and {@code outputDir} must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this configuration's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.imageRoot = imageRoot;
        b.peopleFile = peopleFile;
        b.minImages = minImages;
        b.maxIdentities = maxIdentities;
        b.outputDir = outputDir;
        b.depth = depth;
        b.widthMultiplier = widthMultiplier;
        b.embeddingDim = embeddingDim;
        b.head = head;
        b.m = m;
        b.lambdaBase = lambdaBase;
        b.lambdaGamma = lambdaGamma;
        b.lambdaPower = lambdaPower;
        b.lambdaMin = lambdaMin;
        b.epochs = epochs;
        b.batchSize = batchSize;
        b.lr = lr;
        b.lrSchedule = lrSchedule;
        b.warmup = warmup;
        b.momentum = momentum;
        b.weightDecay = weightDecay;
        b.flip = flip;
        b.seed = seed;
        b.threads = threads;
        b.valFraction = valFraction;
        b.scale = scale;
        b.scaleAuto = scaleAuto;
        b.margin = margin;
        b.cropMargin = cropMargin;
        b.augmentation = augmentation;
        b.labelSmoothing = labelSmoothing;
        b.cacheDir = cacheDir;
        b.checkpointEvery = checkpointEvery;
        b.inputHeight = inputHeight;
        b.inputWidth = inputWidth;
        b.batchNorm = batchNorm;
        b.failOnCorrupt = failOnCorrupt;
        b.align = align;
        b.landmarksFile = landmarksFile;
        b.initFrom = initFrom;
        b.lambdaScheduleMode = lambdaScheduleMode;
        return b;
    }

    public Path imageRoot() { return imageRoot; }
    public Path peopleFile() { return peopleFile; }
    public int minImages() { return minImages; }
    public int maxIdentities() { return maxIdentities; }
    public Path outputDir() { return outputDir; }
    public int depth() { return depth; }
    public double widthMultiplier() { return widthMultiplier; }
    public int embeddingDim() { return embeddingDim; }
    public String head() { return head; }
    public int m() { return m; }
    public double lambdaBase() { return lambdaBase; }
    public double lambdaGamma() { return lambdaGamma; }

    /** Whether γ is chosen per run so that λ reaches λ_min at the last iteration ({@code --lambda-gamma auto}). */
    public boolean lambdaGammaAuto() { return Double.isNaN(lambdaGamma); }
    public double lambdaPower() { return lambdaPower; }
    public double lambdaMin() { return lambdaMin; }
    public int epochs() { return epochs; }
    public int batchSize() { return batchSize; }
    public double lr() { return lr; }
    public String lrSchedule() { return lrSchedule; }
    public int warmup() { return warmup; }
    public double momentum() { return momentum; }
    public double weightDecay() { return weightDecay; }
    public boolean flip() { return flip; }
    public long seed() { return seed; }
    public int threads() { return threads; }
    public double valFraction() { return valFraction; }
    public double scale() { return scale; }
    /** @return whether s is {@link #adaCosScale(int)} of the class count instead of {@link #scale()} */
    public boolean scaleAuto() { return scaleAuto; }
    public double margin() { return margin; }
    public int cropMargin() { return cropMargin; }
    /** Augmentation beyond flip and crop ({@link Augmentation#NONE} by default). */
    public Augmentation augmentation() { return augmentation; }
    /** ε of label smoothing (0 = none). */
    public double labelSmoothing() { return labelSmoothing; }
    public Path cacheDir() { return cacheDir; }
    public int checkpointEvery() { return checkpointEvery; }
    public int inputHeight() { return inputHeight; }
    public int inputWidth() { return inputWidth; }
    public boolean batchNorm() { return batchNorm; }
    public boolean failOnCorrupt() { return failOnCorrupt; }
    /** {@code crop} or {@code detect}. */
    public String align() { return align; }
    /** The landmarks file of {@code align detect}, or null (computed and cached). */
    public Path landmarksFile() { return landmarksFile; }
    /** The model.zip to fine-tune from, or null (from scratch). */
    public Path initFrom() { return initFrom; }
    /** {@code continue} or {@code restart}: the λ schedule of a fine-tuning run ({@link #initFrom}). */
    public String lambdaScheduleMode() { return lambdaScheduleMode; }

    /**
     * Every parameter by name, in declaration order (the {@code config} object of {@code train-report.json}); paths
     * stay {@link Path}s, absent ones are null.
     */
    public Map<String, Object> toMap() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("imageRoot", imageRoot);
        out.put("peopleFile", peopleFile);
        out.put("minImages", minImages);
        out.put("maxIdentities", maxIdentities);
        out.put("outputDir", outputDir);
        out.put("depth", depth);
        out.put("widthMultiplier", widthMultiplier);
        out.put("embeddingDim", embeddingDim);
        out.put("head", head);
        out.put("m", m);
        out.put("lambdaBase", lambdaBase);
        out.put("lambdaGamma", lambdaGammaAuto() ? "auto" : lambdaGamma);
        out.put("lambdaPower", lambdaPower);
        out.put("lambdaMin", lambdaMin);
        out.put("epochs", epochs);
        out.put("batchSize", batchSize);
        out.put("lr", lr);
        out.put("lrSchedule", lrSchedule);
        out.put("warmup", warmup);
        out.put("momentum", momentum);
        out.put("weightDecay", weightDecay);
        out.put("flip", flip);
        out.put("seed", seed);
        out.put("threads", threads);
        out.put("valFraction", valFraction);
        out.put("scale", scaleAuto ? "auto" : scale);
        out.put("margin", margin);
        out.put("cropMargin", cropMargin);
        out.put("cacheDir", cacheDir);
        out.put("checkpointEvery", checkpointEvery);
        out.put("inputHeight", inputHeight);
        out.put("inputWidth", inputWidth);
        out.put("batchNorm", batchNorm);
        out.put("failOnCorrupt", failOnCorrupt);
        out.put("align", align);
        out.put("landmarksFile", landmarksFile);
        out.put("initFrom", initFrom);
        out.put("lambdaScheduleMode", lambdaScheduleMode);
        out.put("augmentation", augmentation.spec());
        out.put("labelSmoothing", labelSmoothing);
        return out;
    }

    @Override
    public String toString() {
        return "TrainConfig" + toMap();
    }

    /** Everything that must match for a checkpoint to be resumed (the output and cache folders may move). */
    public String fingerprint() {
        return String.join("|", String.valueOf(imageRoot.toAbsolutePath().normalize()), String.valueOf(peopleFile),
                Integer.toString(minImages), Integer.toString(maxIdentities), Integer.toString(depth),
                Double.toString(widthMultiplier), Integer.toString(embeddingDim), head, Integer.toString(m),
                Double.toString(lambdaBase), Double.toString(lambdaGamma), Double.toString(lambdaPower),
                Double.toString(lambdaMin), Integer.toString(epochs), Integer.toString(batchSize), Double.toString(lr),
                lrSchedule, Integer.toString(warmup), Double.toString(momentum), Double.toString(weightDecay),
                Boolean.toString(flip), Long.toString(seed), Double.toString(valFraction), scaleAuto ? "auto" : Double.toString(scale),
                Double.toString(margin), Integer.toString(cropMargin), inputHeight + "x" + inputWidth,
                Boolean.toString(batchNorm)) + ("detect".equals(align) ? "|align=detect" : "")
                + (augmentation.isNone() ? "" : "|augment=" + augmentation.spec())
                + (labelSmoothing == 0 ? "" : "|smoothing=" + labelSmoothing)
                + (initFrom != null ? "|init=" + initFrom.toAbsolutePath().normalize() + "|lambda=" + lambdaScheduleMode
                : "");
    }

    /**
     * The fixed AdaCos scale {@code s = √2 · ln(C − 1)} (Zhang et al., "AdaCos: Adaptively Scaling Cosine Logits
     * for Effectively Learning Deep Face Representations", CVPR 2019, Sec. 4.1): the s at which the target-class
     * probability can still approach 1 while the logits' gradient does not saturate early. 10.01 for C = 1184,
     * 11.74 for C = 4038.
     *
     * @param numClasses C, the number of identities, &gt;= 3 (ln(C − 1) must be positive)
     * @throws IllegalArgumentException for C &lt; 3
     */
    public static double adaCosScale(int numClasses) {
        if (numClasses < 3) {
            throw new IllegalArgumentException("--scale auto needs at least 3 identities, got " + numClasses);
        }
        return Math.sqrt(2) * Math.log(numClasses - 1);
    }

    /** The margin head this configuration asks for. */
    public MarginHead buildHead(int numClasses) {
        return switch (head) {
            case "asoftmax" -> new ASoftmaxHead(0, numClasses, m);
            case "amsoftmax" -> new AmSoftmaxHead(0, numClasses,
                    scaleAuto ? adaCosScale(numClasses) : Double.isNaN(scale) ? 30 : scale,
                    Double.isNaN(margin) ? 0.35 : margin);
            case "arcface" -> new ArcFaceHead(0, numClasses,
                    scaleAuto ? adaCosScale(numClasses) : Double.isNaN(scale) ? 64 : scale,
                    Double.isNaN(margin) ? 0.5 : margin);
            default -> new SoftmaxHead(0, numClasses);
        };
    }

    /** Named setters for every parameter; see {@link TrainConfig} for meanings and defaults. */
    public static final class Builder {
        private Path imageRoot;
        private Path peopleFile = null;
        private int minImages = 2;
        private int maxIdentities = 0;
        private Path outputDir;
        private int depth = 4;
        private double widthMultiplier = 0.5;
        private int embeddingDim = 512;
        private String head = "asoftmax";
        private int m = 4;
        private double lambdaBase = 1000;
        private double lambdaGamma = 0.12;
        private double lambdaPower = 1;
        private double lambdaMin = 5;
        private int epochs = 8;
        private int batchSize = 32;
        private double lr = 0.01;
        private String lrSchedule = "step";
        private int warmup = 0;
        private double momentum = 0.9;
        private double weightDecay = 5e-4;
        private boolean flip = true;
        private long seed = 42;
        private int threads = 2;
        private double valFraction = 0.1;
        private double scale = Double.NaN;
        private boolean scaleAuto = false;
        private double margin = Double.NaN;
        private int cropMargin = 2;
        private Augmentation augmentation = Augmentation.NONE;
        private double labelSmoothing = 0;
        private Path cacheDir = null;
        private int checkpointEvery = 200;
        private int inputHeight = 112;
        private int inputWidth = 96;
        private boolean batchNorm = false;
        private boolean failOnCorrupt = false;
        private String align = "crop";
        private Path landmarksFile = null;
        private Path initFrom = null;
        private String lambdaScheduleMode = "continue";

        private Builder() {
        }

        public Builder imageRoot(Path imageRoot) {
            this.imageRoot = imageRoot;
            return this;
        }

        public Builder peopleFile(Path peopleFile) {
            this.peopleFile = peopleFile;
            return this;
        }

        public Builder minImages(int minImages) {
            this.minImages = minImages;
            return this;
        }

        public Builder maxIdentities(int maxIdentities) {
            this.maxIdentities = maxIdentities;
            return this;
        }

        public Builder outputDir(Path outputDir) {
            this.outputDir = outputDir;
            return this;
        }

        public Builder depth(int depth) {
            this.depth = depth;
            return this;
        }

        public Builder widthMultiplier(double widthMultiplier) {
            this.widthMultiplier = widthMultiplier;
            return this;
        }

        public Builder embeddingDim(int embeddingDim) {
            this.embeddingDim = embeddingDim;
            return this;
        }

        public Builder head(String head) {
            this.head = head;
            return this;
        }

        public Builder m(int m) {
            this.m = m;
            return this;
        }

        public Builder lambdaBase(double lambdaBase) {
            this.lambdaBase = lambdaBase;
            return this;
        }

        public Builder lambdaGamma(double lambdaGamma) {
            this.lambdaGamma = lambdaGamma;
            return this;
        }

        public Builder lambdaPower(double lambdaPower) {
            this.lambdaPower = lambdaPower;
            return this;
        }

        public Builder lambdaMin(double lambdaMin) {
            this.lambdaMin = lambdaMin;
            return this;
        }

        public Builder epochs(int epochs) {
            this.epochs = epochs;
            return this;
        }

        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        public Builder lr(double lr) {
            this.lr = lr;
            return this;
        }

        public Builder lrSchedule(String lrSchedule) {
            this.lrSchedule = lrSchedule;
            return this;
        }

        public Builder warmup(int warmup) {
            this.warmup = warmup;
            return this;
        }

        public Builder momentum(double momentum) {
            this.momentum = momentum;
            return this;
        }

        public Builder weightDecay(double weightDecay) {
            this.weightDecay = weightDecay;
            return this;
        }

        public Builder flip(boolean flip) {
            this.flip = flip;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        public Builder valFraction(double valFraction) {
            this.valFraction = valFraction;
            return this;
        }

        /** s = {@link #adaCosScale(int)} of the class count (amsoftmax, arcface). */
        public Builder scaleAuto(boolean scaleAuto) {
            this.scaleAuto = scaleAuto;
            return this;
        }

        public Builder scale(double scale) {
            this.scale = scale;
            return this;
        }

        public Builder margin(double margin) {
            this.margin = margin;
            return this;
        }

        public Builder augmentation(Augmentation augmentation) {
            this.augmentation = augmentation;
            return this;
        }

        public Builder labelSmoothing(double labelSmoothing) {
            this.labelSmoothing = labelSmoothing;
            return this;
        }

        public Builder cropMargin(int cropMargin) {
            this.cropMargin = cropMargin;
            return this;
        }

        public Builder cacheDir(Path cacheDir) {
            this.cacheDir = cacheDir;
            return this;
        }

        public Builder checkpointEvery(int checkpointEvery) {
            this.checkpointEvery = checkpointEvery;
            return this;
        }

        public Builder inputHeight(int inputHeight) {
            this.inputHeight = inputHeight;
            return this;
        }

        public Builder inputWidth(int inputWidth) {
            this.inputWidth = inputWidth;
            return this;
        }

        public Builder batchNorm(boolean batchNorm) {
            this.batchNorm = batchNorm;
            return this;
        }

        public Builder failOnCorrupt(boolean failOnCorrupt) {
            this.failOnCorrupt = failOnCorrupt;
            return this;
        }

        public Builder align(String align) {
            this.align = align;
            return this;
        }

        public Builder landmarksFile(Path landmarksFile) {
            this.landmarksFile = landmarksFile;
            return this;
        }

        public Builder initFrom(Path initFrom) {
            this.initFrom = initFrom;
            return this;
        }

        public Builder lambdaScheduleMode(String lambdaScheduleMode) {
            this.lambdaScheduleMode = lambdaScheduleMode;
            return this;
        }

        /** @throws IllegalArgumentException naming the first invalid parameter and its value */
        public TrainConfig build() {
            return new TrainConfig(this);
        }
    }
}
