package io.spherekit.trainer.head;

import io.spherekit.trainer.head.HeadHarness.Out;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static io.spherekit.trainer.head.HeadHarness.gaussian;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A-Softmax loss and gradients against a plain scalar reference (acos-based, one sample and class at a time), on
 * random inputs and on the edge angles θ = 0, π/4, π/2, π and x = 0.
 */
class ASoftmaxHeadTest {
    static final int D = 6;
    static final int C = 5;

    /** Scalar reference: SphereFace Eq. 7 with the λ blend of margin_inner_product_layer.cpp; mean over the batch. */
    static double referenceLoss(double[][] x, double[][] w, int[] y, double lambda, int m) {
        double total = 0;
        for (int b = 0; b < x.length; b++) {
            double xn = 0;
            for (double v : x[b]) {
                xn += v * v;
            }
            xn = Math.sqrt(xn + 1e-12);
            double[] logits = new double[C];
            for (int c = 0; c < C; c++) {
                double wn = 0;
                double dot = 0;
                for (int d = 0; d < D; d++) {
                    wn += w[d][c] * w[d][c];
                    dot += w[d][c] * x[b][d];
                }
                wn = Math.sqrt(wn + 1e-12);
                double cos = Math.max(-1, Math.min(1, dot / (wn * xn)));
                if (c == y[b]) {
                    double theta = Math.acos(cos);
                    int k = (int) Math.floor(m * theta / Math.PI);
                    k = Math.min(k, m - 1);
                    double psi = ((k % 2 == 0) ? 1 : -1) * Math.cos(m * theta) - 2 * k;
                    logits[c] = xn * (lambda * cos + psi) / (1 + lambda);
                } else {
                    logits[c] = xn * cos;
                }
            }
            total += HeadHarness.crossEntropy(logits, y[b]);
        }
        return total / x.length;
    }

    static Out evaluate(double[][] x, double[][] w, int[] y, double lambda, int m) {
        return HeadHarness.run(new ASoftmaxHead(0, C, m), x, w, y,
                g -> g.getLayer("head").getParam(ASoftmaxHead.LAMBDA).assign(lambda));
    }

    static void checkAgainstReference(double[][] x, double[][] w, int[] y, double lambda, int m) {
        HeadHarness.assertMatchesReference(evaluate(x, w, y, lambda, m),
                (xx, ww) -> referenceLoss(xx, ww, y, lambda, m), x, w, 2e-5);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void randomInputsMatchScalarReference(int m) {
        Random r = new Random(7 + m);
        for (double lambda : new double[]{1000, 20, 5, 0}) {
            double[][] x = gaussian(r, 4, D, 3.0);
            double[][] w = gaussian(r, D, C, 1.0);
            checkAgainstReference(x, w, new int[]{0, 3, 4, 1}, lambda, m);
        }
    }

    /** x at angle θ from the (unit-normalised) target weight column, in the plane of w_y and another direction. */
    static double[] atAngle(double[][] w, int y, double theta, double norm, Random r) {
        double[] wy = new double[D];
        double n = 0;
        for (int d = 0; d < D; d++) {
            wy[d] = w[d][y];
            n += wy[d] * wy[d];
        }
        n = Math.sqrt(n);
        double[] u = new double[D];
        for (int d = 0; d < D; d++) {
            wy[d] /= n;
            u[d] = r.nextGaussian();
        }
        double p = 0;
        for (int d = 0; d < D; d++) {
            p += u[d] * wy[d];
        }
        double un = 0;
        for (int d = 0; d < D; d++) {
            u[d] -= p * wy[d];
            un += u[d] * u[d];
        }
        un = Math.sqrt(un);
        double[] x = new double[D];
        for (int d = 0; d < D; d++) {
            x[d] = norm * (Math.cos(theta) * wy[d] + Math.sin(theta) * u[d] / un);
        }
        return x;
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.0, Math.PI / 4 + 1e-3, Math.PI / 2 + 1e-3, 3 * Math.PI / 4 - 1e-3, Math.PI - 1e-3})
    void edgeAnglesMatchScalarReference(double theta) {
        Random r = new Random(11);
        double[][] w = gaussian(r, D, C, 1.0);
        double[][] x = {atAngle(w, 2, theta, 4.0, r), atAngle(w, 0, theta, 0.5, r)};
        checkAgainstReference(x, w, new int[]{2, 0}, 5, 4);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.0, Math.PI / 4, Math.PI / 2, Math.PI})
    void exactBoundaryAnglesAreFinite(double theta) {
        // exactly on a k boundary (and |cos| = 1 at 0 and π): the loss must equal the reference and stay finite
        Random r = new Random(3);
        double[][] w = gaussian(r, D, C, 1.0);
        double[][] x = {atAngle(w, 1, theta, 2.0, r)};
        Out e = evaluate(x, w, new int[]{1}, 5, 4);
        assertEquals(referenceLoss(x, w, new int[]{1}, 5, 4), e.loss(), 1e-6);
        for (double[] row : e.gx()) {
            for (double v : row) {
                assertTrue(Double.isFinite(v));
            }
        }
    }

    @Test
    void zeroEmbeddingGivesUniformLossAndFiniteGradient() {
        Random r = new Random(5);
        double[][] w = gaussian(r, D, C, 1.0);
        double[][] x = new double[2][D];
        Out e = evaluate(x, w, new int[]{0, 4}, 1000, 4);
        assertEquals(Math.log(C), e.loss(), 1e-6, "all logits are 0 when x = 0");
        for (double[] row : e.gx()) {
            for (double v : row) {
                assertTrue(Double.isFinite(v), "gradient at x = 0 must be finite");
            }
        }
    }

    @Test
    void hugeNormStaysFinite() {
        Random r = new Random(9);
        double[][] w = gaussian(r, D, C, 1.0);
        double[][] x = gaussian(r, 2, D, 1e6);
        Out e = evaluate(x, w, new int[]{0, 1}, 5, 4);
        assertTrue(Double.isFinite(e.loss()));
        assertEquals(referenceLoss(x, w, new int[]{0, 1}, 5, 4), e.loss(), 1e-6 * Math.abs(e.loss()));
    }

    @Test
    void mOneIsSoftmaxOverNormalisedWeightsForAnyLambda() {
        Random r = new Random(13);
        double[][] w = gaussian(r, D, C, 1.0);
        double[][] x = gaussian(r, 3, D, 2.0);
        int[] y = {0, 2, 4};
        double a = evaluate(x, w, y, 1000, 1).loss();
        double b = evaluate(x, w, y, 0, 1).loss();
        assertEquals(a, b, 1e-12, "λ must not matter when m = 1");
        // a softmax over logits ‖x‖·cos θ_j
        double expected = referenceLoss(x, w, y, 0, 1);
        assertEquals(expected, a, 1e-9);
        assertThrows(IllegalArgumentException.class, () -> new ASoftmaxHead(D, C, 5));
    }
}
