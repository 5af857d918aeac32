package io.spherekit.core.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerificationEvaluationTest {

    // 20 pairs, fold k holds (genuine GEN[k], impostor IMP[k]).
    static final double[] GEN = {0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.85, 0.75, 0.65, 0.3};
    static final double[] IMP = {0.1, 0.2, 0.15, 0.25, 0.35, 0.05, 0.4, 0.55, 0.12, 0.3};
    static final double EPS = 1e-12;

    static VerificationEvaluation.Result twentyPairs() {
        double[] s = new double[20];
        boolean[] g = new boolean[20];
        int[] f = new int[20];
        for (int k = 0; k < 10; k++) {
            s[2 * k] = GEN[k];
            g[2 * k] = true;
            f[2 * k] = k;
            s[2 * k + 1] = IMP[k];
            f[2 * k + 1] = k;
        }
        return VerificationEvaluation.evaluate(s, g, f);
    }

    @Test
    void tenFoldAccuracyMatchesHandComputation() {
        VerificationEvaluation.Result r = twentyPairs();
        // Fold 5 (0.45 / 0.05) left out: midpoints 0.45 and 0.575 both classify 16/18 right; smallest wins.
        // Fold 6 (0.85 / 0.40) left out: 0.40 = (0.35+0.45)/2 gives 17/18; the impostor 0.40 >= 0.40 is then wrong.
        // Others: 0.425 = (0.40+0.45)/2 gives the best training accuracy.
        double[] thr = {0.425, 0.425, 0.425, 0.425, 0.425, 0.45, 0.40, 0.425, 0.425, 0.425};
        assertArrayEquals(thr, r.foldThresholds(), 1e-12);
        // Folds 6 (impostor 0.40 accepted), 7 (impostor 0.55 accepted), 9 (genuine 0.30 rejected) get 1/2.
        assertArrayEquals(new double[] {1, 1, 1, 1, 1, 1, 0.5, 0.5, 1, 0.5}, r.foldAccuracies(), EPS);
        assertEquals(0.85, r.meanAccuracy(), EPS);
        // population: sqrt((7*0.15^2 + 3*0.35^2)/10) = sqrt(0.0525); sample: sqrt(0.525/9)
        assertEquals(Math.sqrt(0.0525), r.stdAccuracy(), EPS);
        assertEquals(Math.sqrt(0.525 / 9), r.sampleStdAccuracy(), EPS);
        assertEquals(Math.sqrt(0.525 / 9) / Math.sqrt(10), r.standardError(), EPS);
        assertEquals(0.425, r.meanThreshold(), EPS);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, r.foldIds());
        assertEquals(20, r.pairs());
        assertEquals(10, r.genuinePairs());
    }

    @Test
    void optimisticAucEerTarMatchHandComputation() {
        VerificationEvaluation.Result r = twentyPairs();
        // t = 0.425: 9 genuine >= t, 9 impostors < t -> 18/20
        assertEquals(0.9, r.optimisticAccuracy(), EPS);
        assertEquals(0.425, r.optimisticThreshold(), EPS);
        // misordered (impostor > genuine): 0.55 > {0.5,0.45,0.3}, 0.40 > 0.3, 0.35 > 0.3 = 5; tie 0.3 = 0.3 -> 1/2
        assertEquals((100 - 5 - 0.5) / 100, r.auc(), EPS);
        // at threshold 0.45: FRR = 1/10 (0.30), FAR = 1/10 (0.55)
        assertEquals(0.1, r.eer(), EPS);
        // no impostor above 0.55; 7 genuine >= 0.6
        List<VerificationEvaluation.TarAtFar> taf = r.tarAtFar();
        assertEquals(2, taf.size());
        assertEquals(1e-3, taf.get(0).targetFar());
        assertEquals(0.7, taf.get(0).tar(), EPS);
        assertEquals(0.0, taf.get(0).far(), EPS);
        assertEquals(0.6, taf.get(0).threshold(), EPS);
        assertEquals(0.7, taf.get(1).tar(), EPS);
        // ROC: origin + one point per distinct score (19 distinct: 0.3 appears twice)
        assertEquals(20, r.roc().size());
        assertEquals(new VerificationEvaluation.RocPoint(Double.POSITIVE_INFINITY, 0, 0), r.roc().get(0));
        VerificationEvaluation.RocPoint last = r.roc().get(r.roc().size() - 1);
        assertEquals(1.0, last.far(), EPS);
        assertEquals(1.0, last.tar(), EPS);
    }

    @Test
    void eerInterpolatesAlongTiedStepAndAucCountsTieHalf() {
        // genuine {0.8, 0.5}, impostor {0.5, 0.2}: ROC (0,0) -> (0, .5) -> (.5, 1) -> (1, 1)
        double[] s = {0.8, 0.5, 0.5, 0.2};
        boolean[] g = {true, true, false, false};
        int[] f = {0, 1, 0, 1};
        VerificationEvaluation.Result r = VerificationEvaluation.evaluate(s, g, f);
        // FRR - FAR goes from 0.5 at (far 0, tar .5) to -0.5 at (far .5, tar 1): crossing half way, far = 0.25
        assertEquals(0.25, r.eer(), EPS);
        assertEquals(3.5 / 4, r.auc(), EPS);
        // fold 0 trained on fold 1 {0.5 gen, 0.2 imp}: t = 0.35; fold 0 {0.8 gen ok, 0.5 imp wrong} -> 0.5
        // fold 1 trained on fold 0 {0.8 gen, 0.5 imp}: t = 0.65; fold 1 {0.5 gen wrong, 0.2 imp ok} -> 0.5
        assertArrayEquals(new double[] {0.35, 0.65}, r.foldThresholds(), EPS);
        assertArrayEquals(new double[] {0.5, 0.5}, r.foldAccuracies(), EPS);
        assertEquals(0.0, r.stdAccuracy(), EPS);
        assertEquals(3.0 / 4, r.optimisticAccuracy(), EPS);
    }

    @Test
    void perfectSeparationGivesAucOneEerZero() {
        double[] s = {0.9, 0.8, 0.1, 0.2};
        boolean[] g = {true, true, false, false};
        VerificationEvaluation.Result r = VerificationEvaluation.evaluate(s, g, new int[] {0, 1, 0, 1});
        assertEquals(1.0, r.auc(), EPS);
        assertEquals(0.0, r.eer(), EPS);
        assertEquals(1.0, r.tarAtFar().get(0).tar(), EPS);
        assertEquals(1.0, r.meanAccuracy(), EPS);
    }

    @Test
    void rejectsBadInput() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VerificationEvaluation.evaluate(new double[2], new boolean[3], new int[2]));
        assertTrue(e.getMessage().contains("equal lengths"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> VerificationEvaluation.evaluate(
                new double[] {1, 2}, new boolean[] {true, true}, new int[] {0, 1}));
        assertTrue(e.getMessage().contains("genuine and impostor"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> VerificationEvaluation.evaluate(
                new double[] {1, 2}, new boolean[] {true, false}, new int[] {0, 0}));
        assertTrue(e.getMessage().contains("2 folds"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> VerificationEvaluation.evaluate(
                new double[] {1, Double.NaN}, new boolean[] {true, false}, new int[] {0, 1}));
        assertTrue(e.getMessage().contains("not finite"), e.getMessage());
    }

    @Test
    void writesRocCsv(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("roc.csv");
        twentyPairs().writeRocCsv(csv);
        List<String> lines = Files.readAllLines(csv);
        assertEquals("threshold,far,tar", lines.get(0));
        assertEquals(21, lines.size());
        assertEquals("Infinity,0.0,0.0", lines.get(1));
        assertEquals("0.9,0.0,0.1", lines.get(2));
    }
}
