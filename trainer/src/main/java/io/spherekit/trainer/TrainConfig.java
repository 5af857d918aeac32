package io.spherekit.trainer;

import java.nio.file.Path;

/**
 * Every training hyper-parameter, with the defaults of the end-to-end demo. Defaults follow the paper where the CPU
 * budget allows and say so where they do not.
 *
 * @param imageRoot      person-per-folder image root (LFW: {@code lfw-deepfunneled})
 * @param peopleFile     optional LFW people list restricting identities ({@code peopleDevTrain.txt}); may be null
 * @param minImages      identities with fewer images are dropped (2: 1184 DevTrain people, 6671 images)
 * @param maxIdentities  0 = all; otherwise only the first N identities (tiny runs, tests)
 * @param outputDir      run directory: model, report, log
 * @param depth          SphereFace depth: 4, 10, 20, 36 or 64
 * @param widthMultiplier channel multiplier on 64/128/256/512 ({@code width} in the CLI)
 * @param embeddingDim   fc5 size (paper: 512)
 * @param head           {@code asoftmax} or {@code softmax}
 * @param m              A-Softmax angular margin (paper: 4)
 * @param lambdaBase     λ schedule base (1000), see {@link io.spherekit.trainer.head.LambdaSchedule}
 * @param lambdaGamma    λ schedule γ (0.12)
 * @param lambdaPower    λ schedule power (1)
 * @param lambdaMin      λ floor (5)
 * @param epochs         passes over the training set
 * @param batchSize      images per iteration
 * @param lr             base learning rate for weights (biases get 2×, Caffe lr_mult 2)
 * @param lrSchedule     {@code step} (×0.1 at 60% and 85% of training) or {@code cosine}
 * @param warmup         linear warm-up iterations (0 = none)
 * @param momentum       Nesterov momentum (paper: 0.9 classic momentum; DL4J offers Nesterov only)
 * @param weightDecay    L2 on weights (paper: 5e-4)
 * @param flip           random horizontal flip
 * @param seed           RNG seed: init, shuffling and flips
 * @param threads        image decoding threads
 * @param valFraction    fraction of identities held out (never trained) for the per-epoch 10-fold check; 0 = none
 * @param scale          s of AM-Softmax (default 30) and ArcFace (default 64); NaN = the head's default
 * @param margin         m of AM-Softmax (cosine margin, default 0.35) and ArcFace (angular margin, default 0.5);
 *                       NaN = the head's default
 * @param cropMargin     random-crop augmentation: images are cached this many pixels larger per side and a random
 *                       112×96 window is taken (clcarwin/sphereface_pytorch: 2, i.e. from 116×100); 0 = off
 * @param cacheDir       where decoded images are cached between runs (null = no cache)
 * @param checkpointEvery write a checkpoint every N iterations (and at every epoch end); 0 = epoch ends only
 * @param inputHeight    network input height (paper: 112); the LFW crop box is resampled to it
 * @param inputWidth     network input width (paper: 96)
 * @param batchNorm      BatchNormalization after every conv (later SphereFace work); default off, for fidelity
 * @param failOnCorrupt  fail on the first undecodable image instead of skipping and counting it
 */
public record TrainConfig(Path imageRoot, Path peopleFile, int minImages, int maxIdentities, Path outputDir,
                          int depth, double widthMultiplier, int embeddingDim, String head, int m,
                          double lambdaBase, double lambdaGamma, double lambdaPower, double lambdaMin,
                          int epochs, int batchSize, double lr, String lrSchedule, int warmup, double momentum,
                          double weightDecay, boolean flip, long seed, int threads, double valFraction,
                          double scale, double margin, int cropMargin, Path cacheDir, int checkpointEvery,
                          int inputHeight, int inputWidth, boolean batchNorm, boolean failOnCorrupt) {

    public TrainConfig {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        if (batchSize < 2) {
            throw new IllegalArgumentException("batch size must be >= 2, got " + batchSize);
        }
        if (!java.util.List.of("asoftmax", "amsoftmax", "arcface", "softmax").contains(head)) {
            throw new IllegalArgumentException("head must be asoftmax, amsoftmax, arcface or softmax, got '" + head + "'");
        }
        if (!head.equals("asoftmax") && m != 4) {
            throw new IllegalArgumentException("--m (integer A-Softmax margin) applies to the asoftmax head only; "
                    + "use --margin for " + head);
        }
        if (head.equals("asoftmax") || head.equals("softmax")) {
            if (!Double.isNaN(scale) || !Double.isNaN(margin)) {
                throw new IllegalArgumentException("--scale/--margin apply to amsoftmax and arcface only, not " + head);
            }
        }
        if (!(valFraction >= 0 && valFraction < 0.5)) {
            throw new IllegalArgumentException("val fraction must be in [0, 0.5), got " + valFraction);
        }
        if (inputHeight < 32 || inputWidth < 32 || inputHeight > 1024 || inputWidth > 1024) {
            throw new IllegalArgumentException("input size must be within 32..1024 per side, got " + inputHeight + "x" + inputWidth);
        }
        if (cropMargin < 0 || cropMargin > 16) {
            throw new IllegalArgumentException("crop margin must be in [0, 16], got " + cropMargin);
        }
        if (checkpointEvery < 0) {
            throw new IllegalArgumentException("checkpoint interval must be >= 0, got " + checkpointEvery);
        }
        if (minImages < 1) {
            throw new IllegalArgumentException("min images must be >= 1, got " + minImages);
        }
        // checked here, before any data is read, so a bad value is a usage error (exit 2) up front
        if (!java.util.List.of(4, 10, 20, 36, 64).contains(depth)) {
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

    /** Everything that must match for a checkpoint to be resumed (the output and cache folders may move). */
    public String fingerprint() {
        return String.join("|", String.valueOf(imageRoot.toAbsolutePath().normalize()), String.valueOf(peopleFile),
                Integer.toString(minImages), Integer.toString(maxIdentities), Integer.toString(depth),
                Double.toString(widthMultiplier), Integer.toString(embeddingDim), head, Integer.toString(m),
                Double.toString(lambdaBase), Double.toString(lambdaGamma), Double.toString(lambdaPower),
                Double.toString(lambdaMin), Integer.toString(epochs), Integer.toString(batchSize), Double.toString(lr),
                lrSchedule, Integer.toString(warmup), Double.toString(momentum), Double.toString(weightDecay),
                Boolean.toString(flip), Long.toString(seed), Double.toString(valFraction), Double.toString(scale),
                Double.toString(margin), Integer.toString(cropMargin), inputHeight + "x" + inputWidth,
                Boolean.toString(batchNorm));
    }

    /** The margin head this configuration asks for. */
    public io.spherekit.trainer.head.MarginHead buildHead(int numClasses) {
        return switch (head) {
            case "asoftmax" -> new io.spherekit.trainer.head.ASoftmaxHead(0, numClasses, m);
            case "amsoftmax" -> new io.spherekit.trainer.head.AmSoftmaxHead(0, numClasses,
                    Double.isNaN(scale) ? 30 : scale, Double.isNaN(margin) ? 0.35 : margin);
            case "arcface" -> new io.spherekit.trainer.head.ArcFaceHead(0, numClasses,
                    Double.isNaN(scale) ? 64 : scale, Double.isNaN(margin) ? 0.5 : margin);
            default -> new io.spherekit.trainer.head.SoftmaxHead(0, numClasses);
        };
    }
}
