package io.spherekit.trainer;

import io.spherekit.core.ModelMetadata;
import io.spherekit.core.ModelMetadata.Key;
import io.spherekit.core.ModelMetadata.TrainingData;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.align.AlignmentTemplate;
import io.spherekit.core.cli.Cli;
import io.spherekit.core.eval.VerificationEvaluation;
import io.spherekit.trainer.data.DataFingerprint;
import io.spherekit.trainer.data.FaceCache;
import io.spherekit.trainer.data.Augmentation;
import io.spherekit.trainer.data.FaceDataset;
import io.spherekit.trainer.data.Landmarks;
import io.spherekit.trainer.head.ASoftmaxHead;
import io.spherekit.trainer.head.LambdaSchedule;
import io.spherekit.trainer.head.MarginHead;
import io.spherekit.trainer.head.MarginHeadLayer;
import io.spherekit.trainer.model.SphereFaceNet;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Trains a SphereFace network with a margin head on a face dataset: SGD with Nesterov momentum and L2 weight decay,
 * the λ annealing of A-Softmax keyed on the global iteration, random flips and crops, a held-out 10-fold check
 * per epoch, atomic checkpoints, and bit-exact resume. Progress (iteration, loss, λ, lr, images/s, ETA) goes to
 * {@code log}; {@code train-log.jsonl} and {@code loss.png} go to the run directory.
 */
public final class Trainer {

    /** What a run produced. */
    public record Result(ComputationGraph net, Map<String, String> metadata, int iterations, double finalLoss,
                         double trainSeconds, double imagesPerSecond, int numClasses, int numImages,
                         Map<String, Object> heldout) {
    }

    private final TrainConfig cfg;
    private final PrintStream log;
    /** The whole data set (held-out identities included) as {@link #run} read it; null until then. */
    private TrainingData trainingData;
    /** The files {@link #run} left out, by reason (see {@link FaceDataset#skippedFiles()}); empty until then. */
    private SortedMap<String, List<String>> skipped = new TreeMap<>();
    /** With {@code align detect}: the template the training images were aligned onto; else null. */
    private AlignmentTemplate template;

    public Trainer(TrainConfig cfg, PrintStream log) {
        this.cfg = cfg;
        this.log = log;
    }

    /** Loads (or resumes), trains, and returns the trained network (not yet saved as the final model). */
    public Result run(boolean resume) throws IOException {
        Preprocessing pre = Preprocessing.LFW_SPHEREFACE.withSize(cfg.inputHeight(), cfg.inputWidth());
        var ids = FaceDataset.list(cfg.imageRoot(), cfg.peopleFile(), cfg.minImages(), cfg.maxIdentities());
        int total = ids.stream().mapToInt(i -> i.images().size()).sum();
        log.printf(Locale.ROOT, "data: %d identities, %d images from %s%n", ids.size(), total, cfg.imageRoot());
        long t0 = System.nanoTime();
        Landmarks landmarks = null;
        if ("detect".equals(cfg.align())) {
            template = AlignmentTemplate.forInputSize(pre.height(), pre.width());
            if (template == null) {
                throw new IOException("--align detect has no alignment template for a " + pre.height() + "x"
                        + pre.width() + " input (sphereface-112x96 for 112x96, arcface-112x112 for 112x112)");
            }
            List<Path> all = new ArrayList<>();
            ids.forEach(i -> all.addAll(i.images()));
            landmarks = cfg.landmarksFile() != null ? Landmarks.read(cfg.landmarksFile())
                    : Landmarks.compute(cfg.imageRoot(), all, cfg.cacheDir(), log);
            log.printf(Locale.ROOT, "align: detect, template %s, landmarks %s (detector sha256 %s)%n",
                    template.name(), landmarks.file(), landmarks.detectorSha256());
        }
        FaceDataset data = FaceCache.loadOrBuild(ids, pre, cfg.cropMargin(), cfg.cacheDir(), cfg.threads(), cfg.failOnCorrupt(), n -> {
            if (n % 500 == 0 || n == total) {
                log.printf(Locale.ROOT, "\rdecoding %d/%d", n, total);
            }
        }, log, landmarks, template);
        skipped = data.skippedFiles();
        log.printf(Locale.ROOT, "%d images ready in %.1f s (skipped: %s)%n", data.size(),
                (System.nanoTime() - t0) / 1e9, data.skippedCounts().isEmpty() ? "none" : data.skippedCounts());
        data.skippedFiles().forEach((reason, files) -> {
            for (int i = 0; i < Math.min(5, files.size()); i++) {
                log.println("  skipped (" + reason + "): " + files.get(i));
            }
            if (files.size() > 5) {
                log.println("  ... and " + (files.size() - 5) + " more " + reason + " (listed in train-report.json)");
            }
        });
        trainingData = DataFingerprint.describe(cfg.imageRoot(), cfg.peopleFile(), cfg.minImages(),
                cfg.maxIdentities(), DataFingerprint.files(data));
        FaceDataset trainData = data;
        HeldOutCheck check = null;
        if (cfg.valFraction() > 0) {
            int n = data.numClasses();
            int nVal = Math.max(2, (int) Math.round(cfg.valFraction() * n));
            if (n - nVal < 2) {
                throw new IOException("val fraction " + cfg.valFraction() + " leaves fewer than 2 training identities of " + n);
            }
            int[] perm = identity(n);
            shuffle(perm, new Random(cfg.seed() ^ 0x5EEDL));
            int[] val = Arrays.copyOf(perm, nVal);
            int[] tr = Arrays.copyOfRange(perm, nVal, n);
            Arrays.sort(val);
            Arrays.sort(tr);
            FaceDataset valData = data.subset(val);
            trainData = data.subset(tr);
            check = new HeldOutCheck(valData, 5, cfg.seed());
            log.printf(Locale.ROOT, "held out %d identities (%d images, %d pairs) for the per-epoch check; "
                            + "training on %d identities, %d images%n", valData.numClasses(), valData.size(),
                    check.pairCount(), trainData.numClasses(), trainData.size());
        }
        if (trainData.size() < cfg.batchSize()) {
            throw new IOException("dataset has " + trainData.size() + " training images, fewer than one batch of "
                    + cfg.batchSize() + " (" + cfg.imageRoot() + ")");
        }
        Checkpoints.Loaded from = resume ? Checkpoints.latest(cfg.outputDir(), log) : null;
        FineTune.Plan plan = cfg.initFrom() != null ? FineTune.plan(cfg) : null;
        return train(trainData, check, from, plan);
    }

    /** Trains on an already decoded dataset (no held-out check, no resume). */
    public Result train(FaceDataset data) throws IOException {
        return train(data, null, null, cfg.initFrom() != null ? FineTune.plan(cfg) : null);
    }

    Result train(FaceDataset data, HeldOutCheck check, Checkpoints.Loaded from) {
        return train(data, check, from, null);
    }

    /**
     * The network a run on {@code data} starts from, before its first step: freshly initialised and, with
     * {@code plan}, with the source's backbone (and head) copied in (tests).
     */
    Initial initial(FaceDataset data, FineTune.Plan plan) {
        Run run = new Run(data, null, plan);
        run.initialise();
        return new Initial(run.net, run.applied, run.lambdaOffset);
    }

    /** {@link #initial}'s result. */
    record Initial(ComputationGraph net, FineTune.Applied applied, int lambdaOffset) {
    }

    Result train(FaceDataset data, HeldOutCheck check, Checkpoints.Loaded from, FineTune.Plan plan) {
        Run run = new Run(data, check, plan);
        if (from != null) {
            run.resumeFrom(from);
        } else {
            run.initialise();
        }
        run.logModel();
        try (TrainingLog tlog = new TrainingLog(cfg.outputDir(), from != null)) {
            for (int epoch = run.startEpoch; epoch < cfg.epochs(); epoch++) {
                run.trainEpoch(epoch, tlog);
                run.endEpoch(epoch, tlog);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write in the run directory " + cfg.outputDir() + ": " + e.getMessage(), e);
        }
        return run.result();
    }

    /**
     * One training run: the schedules and head fixed by the configuration and the dataset, the network and the
     * resumable state (shuffle order, RNG, position, loss EMA), and the steps {@link #train} takes through them.
     */
    private final class Run {
        final FaceDataset data;
        final HeldOutCheck check;
        final Preprocessing pre;
        final int classes;
        final int b;
        final int perEpoch;
        final int totalIters;
        final LambdaSchedule lambda;
        final MarginHead head;
        final LrSchedule lr;
        final float[] feat;
        final float[] lab;
        final Map<String, Object> heldout = new LinkedHashMap<>();
        /** Fine-tuning source, or null; its λ offset shifts the schedule ({@link FineTune}). */
        final FineTune.Plan plan;
        final int lambdaOffset;
        FineTune.Applied applied;
        ComputationGraph net;
        Layer headLayer;
        Map<String, String> meta;
        Random rng;
        int[] order;
        int startEpoch;
        int startBatch;
        double ema = Double.NaN;
        long start;
        int done;

        Run(FaceDataset data, HeldOutCheck check, FineTune.Plan plan) {
            this.data = data;
            this.check = check;
            this.plan = plan;
            this.lambdaOffset = plan == null ? 0 : plan.lambdaOffset();
            this.pre = data.preprocessing();
            this.classes = data.numClasses();
            this.b = cfg.batchSize();
            this.perEpoch = data.size() / b; // the last partial batch is dropped
            this.totalIters = perEpoch * cfg.epochs();
            // --lambda-gamma auto (NaN): λ reaches λ_min at this run's last global iteration
            double gamma = cfg.lambdaGammaAuto()
                    ? LambdaSchedule.gammaReachingFloorAt(cfg.lambdaBase(), cfg.lambdaPower(), cfg.lambdaMin(),
                    lambdaOffset + (long) totalIters)
                    : cfg.lambdaGamma();
            this.lambda = new LambdaSchedule(cfg.lambdaBase(), gamma, cfg.lambdaPower(), cfg.lambdaMin());
            this.head = cfg.buildHead(classes);
            this.lr = new LrSchedule(cfg.lrSchedule(), cfg.lr(),
                    new int[]{(int) (0.6 * totalIters), (int) (0.85 * totalIters)}, totalIters, cfg.warmup(), 1.0);
            this.feat = new float[b * pre.tensorSize()];
            this.lab = new float[b * classes];
        }

        /** Continues from a checkpoint written with the same configuration. */
        void resumeFrom(Checkpoints.Loaded from) {
            Checkpoints.State st = from.state();
            if (!st.fingerprint().equals(cfg.fingerprint())) {
                throw new IllegalArgumentException("--resume: the configuration differs from the one that wrote "
                        + from.file() + "; resume with the same flags (or start a new --out)");
            }
            net = from.model().graph();
            try {
                rng = Checkpoints.loadRng(st.rng());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            order = st.order();
            startEpoch = st.epoch();
            startBatch = st.batchInEpoch();
            ema = st.ema();
            log.printf(Locale.ROOT, "resumed from %s: iteration %d, epoch %d, batch %d (λ %.2f)%n", from.file(),
                    net.getConfiguration().getIterationCount(), startEpoch + 1, startBatch,
                    lambda.valueAt(lambdaOffset + net.getConfiguration().getIterationCount()));
        }

        /** A freshly initialised network, seeded from the configuration. */
        void initialise() {
            Nd4j.getRandom().setSeed(cfg.seed());
            net = new ComputationGraph(SphereFaceNet.configuration(cfg.depth(), cfg.widthMultiplier(),
                    cfg.embeddingDim(), pre.height(), pre.width(), head,
                    new Nesterovs(lr, cfg.momentum()), new Nesterovs(lr.scaled(2.0), cfg.momentum()),
                    cfg.weightDecay(), cfg.seed(), cfg.batchNorm()));
            net.init();
            if (plan != null) {
                applied = FineTune.apply(plan, net, cfg, data.identities(), head.headName());
                log.printf(Locale.ROOT, "init from %s (%d iterations): backbone copied (%,d values), head %s;"
                                + " λ schedule %s (offset %d)%n", plan.file(), plan.sourceIterations(),
                        applied.parametersCopied(), applied.headReason(), plan.lambdaMode(), lambdaOffset);
            }
            rng = new Random(cfg.seed());
            order = identity(data.size());
        }

        void logModel() {
            log.printf(Locale.ROOT, "model: SphereFace-%d width %.3f, %,d parameters, head %s %s, %d classes; "
                            + "%d iterations (%d epochs x %d) at batch %d%n",
                    cfg.depth(), cfg.widthMultiplier(), net.numParams(), head.headName(), head.describe(), classes,
                    totalIters, cfg.epochs(), perEpoch, b);
            headLayer = net.getLayer(SphereFaceNet.HEAD);
            ((MarginHeadLayer) headLayer).setLabelSmoothing(cfg.labelSmoothing()); // every head is a MarginHeadLayer
            meta = baseMetadata(pre, head, data, lambda);
            start = System.nanoTime();
        }

        /** The epoch's iterations (from the resumed batch in the first epoch), with progress and checkpoints. */
        void trainEpoch(int epoch, TrainingLog tlog) throws IOException {
            if (epoch > startEpoch || startBatch == 0) {
                shuffle(order, rng);
            }
            for (int bi = (epoch == startEpoch ? startBatch : 0); bi < perEpoch; bi++) {
                fillBatch(bi);
                int global = net.getConfiguration().getIterationCount();
                double lam = lambda.valueAt(lambdaOffset + global);
                fit(global, epoch, lam);
                done++;
                int it = global + 1;
                if (it % 10 == 0 || it == totalIters) {
                    logProgress(tlog, it, global, epoch, lam);
                }
                boolean epochEnd = bi == perEpoch - 1;
                if (!epochEnd && cfg.checkpointEvery() > 0 && it % cfg.checkpointEvery() == 0) {
                    Checkpoints.save(net, meta, new Checkpoints.State(epoch, bi + 1, order.clone(),
                            Checkpoints.saveRng(rng), ema, cfg.fingerprint()), cfg.outputDir());
                }
            }
        }

        /**
         * Batch {@code bi} of the current order into {@link #feat}/{@link #lab}, with random flips and crops, and the
         * {@link Augmentation} of the configuration when there is one (drawn after the flip and crop, so that
         * without one the random stream is the one of plain flip + crop).
         */
        private void fillBatch(int bi) {
            int sz = pre.tensorSize();
            int cm = data.margin();
            Augmentation aug = cfg.augmentation();
            Arrays.fill(lab, 0f);
            for (int j = 0; j < b; j++) {
                int idx = order[bi * b + j];
                boolean flip = cfg.flip() && rng.nextBoolean();
                int dy = cm > 0 ? rng.nextInt(2 * cm + 1) - cm : 0;
                int dx = cm > 0 ? rng.nextInt(2 * cm + 1) - cm : 0;
                if (aug.isNone()) {
                    data.tensorInto(idx, dy, dx, flip, feat, j * sz);
                } else {
                    data.augmentedInto(idx, aug.draw(rng, flip, dy, dx, pre.height(), pre.width()), feat, j * sz);
                }
                lab[j * classes + data.label(idx)] = 1f;
            }
        }

        /** One SGD step at λ {@code lam}; updates the loss EMA, fails on a non-finite loss. */
        private void fit(int global, int epoch, double lam) {
            INDArray x = Nd4j.create(feat, new long[]{b, 3, pre.height(), pre.width()}, 'c');
            INDArray y = Nd4j.create(lab, new long[]{b, classes}, 'c');
            if (headLayer.paramTable().containsKey(ASoftmaxHead.LAMBDA)) {
                headLayer.getParam(ASoftmaxHead.LAMBDA).assign(lam);
            }
            try {
                net.fit(new DataSet(x, y));
            } catch (OutOfMemoryError e) {
                throw new IllegalStateException("out of memory at batch size " + b + "; lower --batch or raise -Xmx", e);
            }
            double loss = net.score();
            if (!Double.isFinite(loss)) {
                throw new IllegalStateException(String.format(Locale.ROOT,
                        "training diverged at iteration %d (loss %s, lr %.4g, λ %.1f); lower --lr", global,
                        loss, lr.valueAt(global, epoch), lam));
            }
            ema = Double.isNaN(ema) ? loss : 0.95 * ema + 0.05 * loss;
        }

        private void logProgress(TrainingLog tlog, int it, int global, int epoch, double lam) throws IOException {
            double el = (System.nanoTime() - start) / 1e9;
            double ips = done * b / el;
            double eta = (totalIters - it) * el / done;
            tlog.iteration(it, epoch + 1, ema, lam, lr.valueAt(global, epoch), ips);
            // λ only where it acts (A-Softmax); the other heads have no λ to show
            String lambdaField = head instanceof ASoftmaxHead ? String.format(Locale.ROOT, "  λ %7.2f", lam) : "";
            log.printf(Locale.ROOT, "\riter %5d/%d  epoch %d/%d  loss %.4f%s  lr %.2e  %5.1f img/s  ETA %s   ",
                    it, totalIters, epoch + 1, cfg.epochs(), ema, lambdaField, lr.valueAt(global, epoch), ips, hms(eta));
        }

        /** The epoch's held-out check (if any), its log lines, and the epoch-end checkpoint. */
        void endEpoch(int epoch, TrainingLog tlog) throws IOException {
            net.getConfiguration().setEpochCount(epoch + 1);
            Map<String, Object> ev = new LinkedHashMap<>();
            ev.put("loss", ema);
            String extra = "";
            if (check != null) {
                VerificationEvaluation.Result r = check.evaluate(net);
                ev.put("heldout_accuracy", r.meanAccuracy());
                ev.put("heldout_accuracy_std", r.stdAccuracy());
                ev.put("heldout_auc", r.auc());
                ev.put("heldout_threshold", r.meanThreshold());
                heldout.clear();
                heldout.put("identities", check.identityCount());
                heldout.put("pairs", check.pairCount());
                heldout.put("accuracy", r.meanAccuracy());
                heldout.put("accuracy_std", r.stdAccuracy());
                heldout.put("auc", r.auc());
                heldout.put("threshold", r.meanThreshold());
                extra = String.format(Locale.ROOT, ", held-out 10-fold accuracy %.2f%% ± %.2f%%, AUC %.4f",
                        100 * r.meanAccuracy(), 100 * r.stdAccuracy(), r.auc());
            }
            tlog.epoch(net.getConfiguration().getIterationCount(), epoch + 1, ev);
            log.printf(Locale.ROOT, "%nepoch %d/%d done: loss (EMA) %.4f%s%n", epoch + 1, cfg.epochs(), ema, extra);
            Checkpoints.save(net, meta, new Checkpoints.State(epoch + 1, 0, order.clone(),
                    Checkpoints.saveRng(rng), ema, cfg.fingerprint()), cfg.outputDir());
        }

        /** The final metadata (iterations, final λ, held-out threshold) and the run's figures. */
        Result result() {
            double secs = (System.nanoTime() - start) / 1e9;
            int iters = net.getConfiguration().getIterationCount();
            ModelMetadata.Builder fin = ModelMetadata.parse(meta).toBuilder().put(Key.TRAINING_ITERATIONS, iters);
            if (head instanceof ASoftmaxHead) {
                fin.put(Key.HEAD_LAMBDA_FINAL, lambda.valueAt(lambdaOffset + iters));
            }
            if (heldout.get("threshold") instanceof Double t) {
                if (Double.isFinite(t) && Math.abs(t) <= 1) {
                    fin.put(Key.THRESHOLD, t);
                    fin.put(Key.THRESHOLD_SOURCE, "held-out DevTrain identities, 10-fold mean threshold");
                } else {
                    log.println("held-out threshold " + t + " is not a cosine in [-1,1]; the model records none");
                }
            }
            if (plan != null) {
                fin.put(Key.INIT_FROM, plan.file().getFileName().toString())
                        .put(Key.INIT_FROM_ITERATIONS, plan.sourceIterations())
                        .put(Key.INIT_FROM_LAMBDA, plan.lambdaMode())
                        .put(Key.HEAD_LAMBDA_OFFSET, lambdaOffset);
                if (applied != null) {
                    fin.put(Key.INIT_FROM_HEAD, applied.headReason());
                }
            }
            meta = fin.build().toMap();
            return new Result(net, meta, iters, ema, secs, done * (double) b / Math.max(secs, 1e-9), classes,
                    data.size(), heldout);
        }
    }

    /** The files {@link #run} left out, by reason ({@code train-report.json}'s {@code skipped}). */
    public SortedMap<String, List<String>> skipped() {
        return skipped;
    }

    private Map<String, String> baseMetadata(Preprocessing pre, MarginHead head, FaceDataset data, LambdaSchedule lambda) {
        ModelMetadata.Builder b = ModelMetadata.builder()
                .preprocessing(pre)
                .put(Key.VERSION, Cli.VERSION)
                .put(Key.NETWORK, "sphereface-" + cfg.depth() + (cfg.batchNorm() ? "-bn" : ""))
                .put(Key.WIDTH_MULTIPLIER, cfg.widthMultiplier())
                .put(Key.EMBEDDING_DIM, cfg.embeddingDim())
                .put(Key.HEAD, head.headName());
        head.describe().forEach(b::headParameter);
        if (template != null) {
            b.put(Key.INPUT_ALIGN, "detect").put(Key.INPUT_ALIGN_TEMPLATE, template.name());
        }
        if (head instanceof ASoftmaxHead) {
            b.put(Key.HEAD_LAMBDA_SCHEDULE, String.format(Locale.ROOT,
                    "max(%s, %s*(1+%s*iter)^-%s)", lambda.lambdaMin(), lambda.base(), lambda.gamma(), lambda.power())
                    + (cfg.lambdaGammaAuto() ? " (gamma auto: the floor at the run's last iteration)" : ""));
        }
        try {
            b.trainingData(trainingData != null ? trainingData : DataFingerprint.describe(cfg.imageRoot(),
                    cfg.peopleFile(), cfg.minImages(), cfg.maxIdentities(), DataFingerprint.files(data)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.put(Key.TRAINING_IDENTITIES, data.numClasses())
                .put(Key.TRAINING_IDENTITIES_SHA256, FineTune.identitiesSha256(data.identities()))
                .put(Key.TRAINING_IMAGES, data.size())
                .put(Key.TRAINING_EPOCHS, cfg.epochs())
                .build().toMap();
    }

    private static int[] identity(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        return a;
    }

    private static void shuffle(int[] a, Random r) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    static String hms(double s) {
        long t = Math.round(s);
        return String.format(Locale.ROOT, "%d:%02d:%02d", t / 3600, (t / 60) % 60, t % 60);
    }
}
