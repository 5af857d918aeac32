package io.spherekit.trainer;

import io.spherekit.runtime.Preprocessing;
import io.spherekit.trainer.data.FaceDataset;
import io.spherekit.trainer.head.ASoftmaxHead;
import io.spherekit.trainer.head.LambdaSchedule;
import io.spherekit.trainer.head.MarginHead;
import io.spherekit.trainer.head.SoftmaxHead;
import io.spherekit.trainer.model.SphereFaceNet;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;

import java.io.IOException;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Trains a SphereFace network with a margin head on a face dataset, printing progress (iteration, loss, λ, lr,
 * images/s, ETA), and saves the model with its metadata.
 */
public final class Trainer {

    /** What a run produced. */
    public record Result(ComputationGraph net, Map<String, String> metadata, int iterations, double finalLoss,
                         double trainSeconds, double imagesPerSecond, int numClasses, int numImages,
                         Map<String, Object> heldout) {
    }

    private final TrainConfig cfg;
    private final PrintStream log;

    public Trainer(TrainConfig cfg, PrintStream log) {
        this.cfg = cfg;
        this.log = log;
    }

    /** Loads the data, trains, and returns the trained network (not yet saved). */
    public Result run() throws IOException {
        Preprocessing pre = Preprocessing.LFW_SPHEREFACE;
        var ids = FaceDataset.list(cfg.imageRoot(), cfg.peopleFile(), cfg.minImages(), cfg.maxIdentities());
        int total = ids.stream().mapToInt(i -> i.images().size()).sum();
        log.printf(Locale.ROOT, "data: %d identities, %d images from %s%n", ids.size(), total, cfg.imageRoot());
        long t0 = System.nanoTime();
        FaceDataset data = FaceDataset.load(ids, pre, cfg.threads(), n -> {
            if (n % 500 == 0 || n == total) {
                log.printf(Locale.ROOT, "\rdecoding %d/%d", n, total);
            }
        });
        log.printf(Locale.ROOT, "%ndecoded %d images in %.1f s (%d skipped)%n", data.size(),
                (System.nanoTime() - t0) / 1e9, data.skipped());
        if (data.size() < cfg.batchSize()) {
            throw new IOException("dataset has " + data.size() + " images, fewer than one batch of " + cfg.batchSize());
        }
        if (cfg.valFraction() > 0) {
            int n = data.numClasses();
            int nVal = Math.max(2, (int) Math.round(cfg.valFraction() * n));
            if (n - nVal < 2) {
                throw new IOException("val fraction " + cfg.valFraction() + " leaves fewer than 2 training identities of " + n);
            }
            int[] perm = new int[n];
            for (int i = 0; i < n; i++) {
                perm[i] = i;
            }
            shuffle(perm, new Random(cfg.seed() ^ 0x5EEDL));
            int[] val = java.util.Arrays.copyOf(perm, nVal);
            int[] tr = java.util.Arrays.copyOfRange(perm, nVal, n);
            java.util.Arrays.sort(val);
            java.util.Arrays.sort(tr);
            FaceDataset valData = data.subset(val);
            FaceDataset trainData = data.subset(tr);
            HeldOutCheck check = new HeldOutCheck(valData, 5, cfg.seed());
            log.printf(Locale.ROOT, "held out %d identities (%d images, %d pairs) for the per-epoch check; training on %d identities, %d images%n",
                    valData.numClasses(), valData.size(), check.pairCount(), trainData.numClasses(), trainData.size());
            return train(trainData, check);
        }
        return train(data, null);
    }

    /** Trains on an already decoded dataset (no held-out check). */
    public Result train(FaceDataset data) {
        return train(data, null);
    }

    /** Trains on an already decoded dataset; {@code check} (may be null) runs after every epoch. */
    public Result train(FaceDataset data, HeldOutCheck check) {
        Nd4j.getRandom().setSeed(cfg.seed());
        int classes = data.numClasses();
        int perEpoch = data.size() / cfg.batchSize(); // the last partial batch is dropped
        int totalIters = perEpoch * cfg.epochs();
        LambdaSchedule lambda = new LambdaSchedule(cfg.lambdaBase(), cfg.lambdaGamma(), cfg.lambdaPower(), cfg.lambdaMin());
        MarginHead head = cfg.buildHead(classes);
        LrSchedule lr = new LrSchedule(cfg.lrSchedule(), cfg.lr(),
                new int[]{(int) (0.6 * totalIters), (int) (0.85 * totalIters)}, totalIters, cfg.warmup(), 1.0);
        Preprocessing pre = data.preprocessing();
        ComputationGraph net = new ComputationGraph(SphereFaceNet.configuration(cfg.depth(), cfg.widthMultiplier(),
                cfg.embeddingDim(), pre.height(), pre.width(), head,
                new Nesterovs(lr, cfg.momentum()), new Nesterovs(lr.scaled(2.0), cfg.momentum()),
                cfg.weightDecay(), cfg.seed()));
        net.init();
        log.printf(Locale.ROOT, "model: SphereFace-%d width %.3f, %,d parameters, head %s, %d classes; "
                        + "%d iterations (%d epochs x %d) at batch %d%n",
                cfg.depth(), cfg.widthMultiplier(), net.numParams(), cfg.head(), classes, totalIters, cfg.epochs(),
                perEpoch, cfg.batchSize());

        Layer headLayer = net.getLayer(SphereFaceNet.HEAD);
        Random rng = new Random(cfg.seed());
        int b = cfg.batchSize();
        int sz = pre.tensorSize();
        float[] feat = new float[b * sz];
        float[] lab = new float[b * classes];
        int[] order = new int[data.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        TrainingLog tlog;
        try {
            tlog = new TrainingLog(cfg.outputDir(), false);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write the training log in " + cfg.outputDir(), e);
        }
        Map<String, Object> heldout = new LinkedHashMap<>();
        double ema = Double.NaN;
        double lastLoss = Double.NaN;
        long start = System.nanoTime();
        int iter = 0;
        for (int epoch = 0; epoch < cfg.epochs(); epoch++) {
            shuffle(order, rng);
            for (int bi = 0; bi < perEpoch; bi++) {
                java.util.Arrays.fill(lab, 0f);
                for (int j = 0; j < b; j++) {
                    int idx = order[bi * b + j];
                    pre.normalizeInto(data.pixels(idx), cfg.flip() && rng.nextBoolean(), feat, j * sz);
                    lab[j * classes + data.label(idx)] = 1f;
                }
                INDArray x = Nd4j.create(feat, new long[]{b, 3, pre.height(), pre.width()}, 'c');
                INDArray y = Nd4j.create(lab, new long[]{b, classes}, 'c');
                int global = net.getConfiguration().getIterationCount();
                double lam = lambda.valueAt(global);
                if (headLayer.paramTable().containsKey(ASoftmaxHead.LAMBDA)) {
                    headLayer.getParam(ASoftmaxHead.LAMBDA).assign(lam);
                }
                net.fit(new DataSet(x, y));
                lastLoss = net.score();
                if (!Double.isFinite(lastLoss)) {
                    throw new IllegalStateException(String.format(Locale.ROOT,
                            "training diverged at iteration %d (loss %s, lr %.4g, λ %.1f); lower --lr", global,
                            lastLoss, lr.valueAt(global, epoch), lam));
                }
                ema = Double.isNaN(ema) ? lastLoss : 0.95 * ema + 0.05 * lastLoss;
                iter++;
                if (iter % 10 == 0 || iter == totalIters) {
                    double el = (System.nanoTime() - start) / 1e9;
                    double ips = iter * b / el;
                    double eta = (totalIters - iter) * el / iter;
                    logIteration(tlog, iter, epoch + 1, ema, lam, lr.valueAt(global, epoch), ips);
                    log.printf(Locale.ROOT, "\riter %5d/%d  epoch %d  loss %.4f  λ %7.2f  lr %.2e  %5.1f img/s  ETA %s   ",
                            iter, totalIters, epoch + 1, ema, lam, lr.valueAt(global, epoch), ips, hms(eta));
                }
            }
            net.getConfiguration().setEpochCount(epoch + 1);
            Map<String, Object> ev = new LinkedHashMap<>();
            ev.put("loss", ema);
            String extra = "";
            if (check != null) {
                var r = check.evaluate(net);
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
            try {
                tlog.epoch(iter, epoch + 1, ev);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot write the training log in " + cfg.outputDir(), e);
            }
            log.printf(Locale.ROOT, "%nepoch %d done: loss (EMA) %.4f%s%n", epoch + 1, ema, extra);
        }
        try {
            tlog.close();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        double secs = (System.nanoTime() - start) / 1e9;
        Map<String, String> meta = new LinkedHashMap<>(pre.toMetadata());
        meta.put("spherekit.version", Version.VERSION);
        meta.put("spherekit.network", "sphereface-" + cfg.depth());
        meta.put("spherekit.width_multiplier", Double.toString(cfg.widthMultiplier()));
        meta.put("spherekit.embedding_dim", Integer.toString(cfg.embeddingDim()));
        meta.put("spherekit.head", head.headName());
        head.describe().forEach((k, v) -> meta.put("spherekit.head." + k, v));
        if (head instanceof ASoftmaxHead) {
            meta.put("spherekit.head.lambda_final", Double.toString(lambda.valueAt(net.getConfiguration().getIterationCount())));
            meta.put("spherekit.head.lambda_schedule", lambda.toString());
        }
        meta.put("spherekit.training.data", cfg.imageRoot() + (cfg.peopleFile() != null ? " people=" + cfg.peopleFile().getFileName() : ""));
        meta.put("spherekit.training.identities", Integer.toString(classes));
        meta.put("spherekit.training.images", Integer.toString(data.size()));
        meta.put("spherekit.training.iterations", Integer.toString(net.getConfiguration().getIterationCount()));
        meta.put("spherekit.training.epochs", Integer.toString(cfg.epochs()));
        if (heldout.containsKey("threshold")) {
            meta.put("spherekit.threshold", Double.toString((Double) heldout.get("threshold")));
            meta.put("spherekit.threshold.source", "held-out DevTrain identities, 10-fold mean threshold");
        }
        return new Result(net, meta, iter, ema, secs, iter * (double) b / secs, classes, data.size(), heldout);
    }

    private static void logIteration(TrainingLog tlog, int iter, int epoch, double loss, double lam, double lr, double ips) {
        try {
            tlog.iteration(iter, epoch, loss, lam, lr, ips);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
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
