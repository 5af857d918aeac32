package io.spherekit.core.eval;

import io.spherekit.core.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.stream.IntStream;

/**
 * Face-verification metrics on scored pairs, following the LFW "unrestricted" 10-fold protocol.
 *
 * <p>Decision rule everywhere: a pair is predicted genuine when {@code score >= threshold}.
 *
 * <p><b>10-fold accuracy.</b> For each fold k, the threshold is chosen on the other folds: among the midpoints of
 * consecutive sorted distinct training scores, the one with the highest training accuracy (ties: the smallest
 * such midpoint; if the training scores are all equal, that score itself). Fold k's accuracy is then measured with
 * that threshold. The summary is the mean ± <em>population</em> standard deviation (divisor K) of the K fold
 * accuracies; the sample standard deviation (divisor K−1) and the standard error {@code sampleStd/√K} that the
 * LFW technical report (Huang et al. 2007, §"Reporting results") defines are reported as well.
 *
 * <p><b>Optimistic accuracy</b> uses one threshold chosen (same rule) on the whole list and measured on the same
 * list: an upper bound, not a protocol result.
 *
 * <p><b>ROC</b>: one point per distinct score s (descending), TAR = genuine ≥ s / genuine, FAR = impostor ≥ s /
 * impostor, preceded by (FAR 0, TAR 0) at threshold +∞. <b>AUC</b> is exact (Mann–Whitney: the fraction of
 * genuine/impostor pairs ordered correctly, ties counting 1/2). <b>EER</b> is where FRR = 1−TAR equals FAR, linearly
 * interpolated along the ROC step between the two points where FRR−FAR changes sign. <b>TAR@FAR=x</b> is the
 * highest TAR among ROC points with FAR ≤ x (no interpolation; with fewer than 1/x impostors it means zero false
 * accepts).
 */
public final class VerificationEvaluation {

    private VerificationEvaluation() {
    }

    /**
     * One ROC point.
     *
     * @param threshold cosine threshold ({@code +Infinity} for the origin)
     * @param far       false accept rate, impostors with score ≥ threshold / impostors
     * @param tar       true accept rate, genuine with score ≥ threshold / genuine
     */
    public record RocPoint(double threshold, double far, double tar) {
    }

    /**
     * TAR at a FAR target.
     *
     * @param targetFar the FAR bound
     * @param tar       highest TAR with FAR ≤ targetFar
     * @param far       the FAR actually reached at that point
     * @param threshold the threshold of that point
     */
    public record TarAtFar(double targetFar, double tar, double far, double threshold) {
    }

    /**
     * All metrics. Accuracies and rates are fractions in [0, 1]; thresholds are scores (cosines).
     *
     * @param pairs              number of pairs
     * @param genuinePairs       number of genuine pairs
     * @param impostorPairs      number of impostor pairs
     * @param foldIds            the distinct fold ids, ascending
     * @param foldAccuracies     accuracy of each fold with the threshold chosen on the others
     * @param foldThresholds     threshold chosen for each fold
     * @param meanAccuracy       mean of {@code foldAccuracies}
     * @param stdAccuracy        population standard deviation (divisor K) of {@code foldAccuracies}
     * @param sampleStdAccuracy  sample standard deviation (divisor K−1)
     * @param standardError      {@code sampleStdAccuracy / √K}, the LFW report's S_E
     * @param meanThreshold      mean of {@code foldThresholds}
     * @param optimisticAccuracy best single-threshold accuracy on the whole list (optimistic)
     * @param optimisticThreshold its threshold
     * @param auc                area under the ROC curve, exact, ties 1/2
     * @param eer                equal error rate
     * @param tarAtFar           TAR at FAR 1e-3 and 1e-2, in that order
     * @param roc                ROC points, FAR and TAR non-decreasing
     */
    public record Result(int pairs, int genuinePairs, int impostorPairs, int[] foldIds, double[] foldAccuracies,
                         double[] foldThresholds, double meanAccuracy, double stdAccuracy, double sampleStdAccuracy,
                         double standardError, double meanThreshold, double optimisticAccuracy,
                         double optimisticThreshold, double auc, double eer, List<TarAtFar> tarAtFar,
                         List<RocPoint> roc) {

        /**
         * Writes the ROC as CSV {@code threshold,far,tar} (header line first), for plotting; atomically
         * ({@link AtomicFiles}), into an existing folder.
         *
         * @throws IOException naming the file when it cannot be written
         */
        public void writeRocCsv(Path file) throws IOException {
            StringBuilder w = new StringBuilder("threshold,far,tar\n");
            for (RocPoint p : roc) {
                w.append(String.format(Locale.ROOT, "%s,%s,%s%n", p.threshold(), p.far(), p.tar()));
            }
            AtomicFiles.writeString(file, w);
        }

        /** A one-paragraph human-readable summary (percentages). */
        public String summary() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT,
                    "%d-fold accuracy: %.2f%% ± %.2f%% (population std; sample std %.2f%%, standard error %.2f%%),"
                            + " mean threshold %.4f%n",
                    foldIds.length, 100 * meanAccuracy, 100 * stdAccuracy, 100 * sampleStdAccuracy,
                    100 * standardError, meanThreshold));
            sb.append(String.format(Locale.ROOT, "optimistic accuracy (one threshold fit on all pairs): %.2f%% at %.4f%n",
                    100 * optimisticAccuracy, optimisticThreshold));
            sb.append(String.format(Locale.ROOT, "AUC: %.4f   EER: %.2f%%%n", auc, 100 * eer));
            for (TarAtFar t : tarAtFar) {
                sb.append(String.format(Locale.ROOT, "TAR@FAR=%s: %.2f%% (FAR %.4f%%, threshold %.4f)%n",
                        t.targetFar(), 100 * t.tar(), 100 * t.far(), t.threshold()));
            }
            sb.append(String.format(Locale.ROOT, "pairs: %d (%d genuine, %d impostor)", pairs, genuinePairs,
                    impostorPairs));
            return sb.toString();
        }
    }

    /** FAR targets reported by {@link #evaluate}. */
    static final double[] FAR_TARGETS = {1e-3, 1e-2};

    /**
     * Computes all metrics.
     *
     * @param scores  similarity per pair (higher = more alike), finite
     * @param genuine label per pair, true = same person
     * @param fold    fold id per pair (any ints; LFW: 0..9); at least 2 distinct ids
     * @return the metrics
     * @throws IllegalArgumentException if the arrays differ in length or are empty, a score is not finite, there
     *                                  is no genuine or no impostor pair, or fewer than 2 folds
     */
    public static Result evaluate(double[] scores, boolean[] genuine, int[] fold) {
        int n = scores.length;
        if (genuine.length != n || fold.length != n) {
            throw new IllegalArgumentException("scores, genuine and fold must have equal lengths, got " + n + ", "
                    + genuine.length + ", " + fold.length);
        }
        if (n == 0) {
            throw new IllegalArgumentException("no pairs");
        }
        int pos = 0;
        for (int i = 0; i < n; i++) {
            if (!Double.isFinite(scores[i])) {
                throw new IllegalArgumentException("score " + i + " is not finite: " + scores[i]);
            }
            pos += genuine[i] ? 1 : 0;
        }
        if (pos == 0 || pos == n) {
            throw new IllegalArgumentException("need both genuine and impostor pairs, got " + pos + " genuine of " + n);
        }
        TreeSet<Integer> ids = new TreeSet<>();
        for (int f : fold) {
            ids.add(f);
        }
        if (ids.size() < 2) {
            throw new IllegalArgumentException("need at least 2 folds, got " + ids);
        }
        int[] foldIds = ids.stream().mapToInt(Integer::intValue).toArray();
        int k = foldIds.length;
        double[] acc = new double[k];
        double[] thr = new double[k];
        for (int fi = 0; fi < k; fi++) {
            int id = foldIds[fi];
            int[] train = select(fold, id, false);
            int[] test = select(fold, id, true);
            thr[fi] = bestThreshold(scores, genuine, train);
            acc[fi] = accuracy(scores, genuine, test, thr[fi]);
        }
        double mean = Arrays.stream(acc).average().orElseThrow();
        double ss = 0;
        for (double a : acc) {
            ss += (a - mean) * (a - mean);
        }
        double popStd = Math.sqrt(ss / k);
        double sampleStd = Math.sqrt(ss / (k - 1));
        int[] all = new int[n];
        Arrays.setAll(all, i -> i);
        double optThr = bestThreshold(scores, genuine, all);
        double optAcc = accuracy(scores, genuine, all, optThr);
        List<RocPoint> roc = roc(scores, genuine);
        List<TarAtFar> taf = new ArrayList<>();
        for (double target : FAR_TARGETS) {
            taf.add(tarAtFar(roc, target));
        }
        return new Result(n, pos, n - pos, foldIds, acc, thr, mean, popStd, sampleStd, sampleStd / Math.sqrt(k),
                Arrays.stream(thr).average().orElseThrow(), optAcc, optThr, auc(scores, genuine), eer(roc), taf, roc);
    }

    private static int[] select(int[] fold, int id, boolean in) {
        return IntStream.range(0, fold.length).filter(i -> (fold[i] == id) == in).toArray();
    }

    /**
     * Threshold maximising accuracy on {@code idx}: the smallest best midpoint of sorted distinct scores; the
     * single score when all are equal.
     */
    static double bestThreshold(double[] scores, boolean[] genuine, int[] idx) {
        int m = idx.length;
        Integer[] order = new Integer[m];
        for (int i = 0; i < m; i++) {
            order[i] = idx[i];
        }
        Arrays.sort(order, (a, b) -> Double.compare(scores[a], scores[b]));
        int totalGen = 0;
        for (int i : idx) {
            totalGen += genuine[i] ? 1 : 0;
        }
        double best = scores[order[0]];
        int bestCorrect = -1;
        int genBelow = 0;
        int impBelow = 0;
        for (int i = 1; i < m; i++) {
            if (genuine[order[i - 1]]) {
                genBelow++;
            } else {
                impBelow++;
            }
            double lo = scores[order[i - 1]];
            double hi = scores[order[i]];
            if (hi > lo) {
                int correct = (totalGen - genBelow) + impBelow;
                if (correct > bestCorrect) {
                    bestCorrect = correct;
                    best = lo + (hi - lo) / 2;
                }
            }
        }
        return best;
    }

    /** Fraction of {@code idx} classified correctly by {@code score >= t}. */
    static double accuracy(double[] scores, boolean[] genuine, int[] idx, double t) {
        int correct = 0;
        for (int i : idx) {
            if ((scores[i] >= t) == genuine[i]) {
                correct++;
            }
        }
        return (double) correct / idx.length;
    }

    /** Exact AUC via average ranks (Mann–Whitney U), ties count 1/2. */
    static double auc(double[] scores, boolean[] genuine) {
        int n = scores.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(scores[a], scores[b]));
        double rankSumPos = 0;
        long pos = 0;
        int i = 0;
        while (i < n) {
            int j = i;
            while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) {
                j++;
            }
            double avgRank = (i + 1 + j + 1) / 2.0;
            for (int t = i; t <= j; t++) {
                if (genuine[order[t]]) {
                    rankSumPos += avgRank;
                    pos++;
                }
            }
            i = j + 1;
        }
        long neg = n - pos;
        return (rankSumPos - pos * (pos + 1) / 2.0) / ((double) pos * neg);
    }

    static List<RocPoint> roc(double[] scores, boolean[] genuine) {
        int n = scores.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(scores[b], scores[a]));
        int pos = 0;
        for (boolean g : genuine) {
            pos += g ? 1 : 0;
        }
        int neg = n - pos;
        List<RocPoint> roc = new ArrayList<>();
        roc.add(new RocPoint(Double.POSITIVE_INFINITY, 0, 0));
        int tp = 0;
        int fp = 0;
        int i = 0;
        while (i < n) {
            double s = scores[order[i]];
            while (i < n && scores[order[i]] == s) {
                if (genuine[order[i]]) {
                    tp++;
                } else {
                    fp++;
                }
                i++;
            }
            roc.add(new RocPoint(s, (double) fp / neg, (double) tp / pos));
        }
        return List.copyOf(roc);
    }

    static double eer(List<RocPoint> roc) {
        for (int i = 1; i < roc.size(); i++) {
            RocPoint p = roc.get(i);
            double d = (1 - p.tar()) - p.far();
            if (d <= 0) {
                RocPoint q = roc.get(i - 1);
                double d0 = (1 - q.tar()) - q.far();
                double t = d0 / (d0 - d);
                return q.far() + t * (p.far() - q.far());
            }
        }
        return 0; // unreachable: the last point has FAR 1, FRR 0
    }

    static TarAtFar tarAtFar(List<RocPoint> roc, double target) {
        RocPoint best = roc.get(0);
        for (RocPoint p : roc) {
            if (p.far() <= target && p.tar() >= best.tar()) {
                best = p;
            }
        }
        return new TarAtFar(target, best.tar(), best.far(), best.threshold());
    }
}
