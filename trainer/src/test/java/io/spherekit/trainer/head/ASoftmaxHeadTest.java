package io.spherekit.trainer.head;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import java.util.Random;

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
            double max = Double.NEGATIVE_INFINITY;
            for (double v : logits) {
                max = Math.max(max, v);
            }
            double s = 0;
            for (double v : logits) {
                s += Math.exp(v - max);
            }
            total += max + Math.log(s) - logits[y[b]];
        }
        return total / x.length;
    }

    /** input I_B → dense (no bias, W = X) → head, so the dense weight gradient is dLoss/dX. */
    static ComputationGraph net(int batch, int m) {
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .updater(new Sgd(0.0)).graphBuilder().addInputs("in").setInputTypes(InputType.feedForward(batch))
                .addLayer("x", new DenseLayer.Builder().nOut(D).hasBias(false).activation(Activation.IDENTITY).build(), "in")
                .addLayer("head", new ASoftmaxHead(0, C, m), "x").setOutputs("head").build());
        g.init();
        return g;
    }

    record Eval(double loss, double[][] gx, double[][] gw) {
    }

    static Eval evaluate(double[][] x, double[][] w, int[] y, double lambda, int m) {
        int batch = x.length;
        ComputationGraph g = net(batch, m);
        g.getLayer("x").getParam("W").assign(Nd4j.create(x)); // I_B · X = X
        g.getLayer("head").getParam("W").assign(Nd4j.create(w));
        g.getLayer("head").getParam(ASoftmaxHead.LAMBDA).assign(lambda);
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, batch, C);
        for (int b = 0; b < batch; b++) {
            labels.putScalar(b, y[b], 1.0);
        }
        g.setInputs(Nd4j.eye(batch).castTo(DataType.DOUBLE));
        g.setLabels(labels);
        g.computeGradientAndScore();
        // DL4J gradients are of the summed loss; the score is the mean.
        INDArray gx = g.gradient().getGradientFor("x_W").div(batch);
        INDArray gw = g.gradient().getGradientFor("head_W").div(batch);
        return new Eval(g.score(), gx.toDoubleMatrix(), gw.toDoubleMatrix());
    }

    static void checkAgainstReference(double[][] x, double[][] w, int[] y, double lambda, int m) {
        Eval e = evaluate(x, w, y, lambda, m);
        double ref = referenceLoss(x, w, y, lambda, m);
        assertTrue(Double.isFinite(e.loss()), "loss not finite");
        assertEquals(ref, e.loss(), 1e-9 + 1e-7 * Math.abs(ref), "loss vs scalar reference");
        double h = 1e-6;
        for (int b = 0; b < x.length; b++) {
            for (int d = 0; d < D; d++) {
                double o = x[b][d];
                x[b][d] = o + h;
                double lp = referenceLoss(x, w, y, lambda, m);
                x[b][d] = o - h;
                double lm = referenceLoss(x, w, y, lambda, m);
                x[b][d] = o;
                double num = (lp - lm) / (2 * h);
                assertTrue(Double.isFinite(e.gx()[b][d]), "dL/dx not finite");
                assertEquals(num, e.gx()[b][d], 2e-5 + 1e-4 * Math.abs(num), "dL/dx[" + b + "][" + d + "]");
            }
        }
        for (int d = 0; d < D; d++) {
            for (int c = 0; c < C; c++) {
                double o = w[d][c];
                w[d][c] = o + h;
                double lp = referenceLoss(x, w, y, lambda, m);
                w[d][c] = o - h;
                double lm = referenceLoss(x, w, y, lambda, m);
                w[d][c] = o;
                double num = (lp - lm) / (2 * h);
                assertEquals(num, e.gw()[d][c], 2e-5 + 1e-4 * Math.abs(num), "dL/dW[" + d + "][" + c + "]");
            }
        }
    }

    static double[][] randomMatrix(Random r, int rows, int cols, double scale) {
        double[][] a = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                a[i][j] = r.nextGaussian() * scale;
            }
        }
        return a;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void randomInputsMatchScalarReference(int m) {
        Random r = new Random(7 + m);
        for (double lambda : new double[]{1000, 20, 5, 0}) {
            double[][] x = randomMatrix(r, 4, D, 3.0);
            double[][] w = randomMatrix(r, D, C, 1.0);
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
        double[][] w = randomMatrix(r, D, C, 1.0);
        double[][] x = {atAngle(w, 2, theta, 4.0, r), atAngle(w, 0, theta, 0.5, r)};
        checkAgainstReference(x, w, new int[]{2, 0}, 5, 4);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.0, Math.PI / 4, Math.PI / 2, Math.PI})
    void exactBoundaryAnglesAreFinite(double theta) {
        // exactly on a k boundary (and |cos| = 1 at 0 and π): the loss must equal the reference and stay finite
        Random r = new Random(3);
        double[][] w = randomMatrix(r, D, C, 1.0);
        double[][] x = {atAngle(w, 1, theta, 2.0, r)};
        Eval e = evaluate(x, w, new int[]{1}, 5, 4);
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
        double[][] w = randomMatrix(r, D, C, 1.0);
        double[][] x = new double[2][D];
        Eval e = evaluate(x, w, new int[]{0, 4}, 1000, 4);
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
        double[][] w = randomMatrix(r, D, C, 1.0);
        double[][] x = randomMatrix(r, 2, D, 1e6);
        Eval e = evaluate(x, w, new int[]{0, 1}, 5, 4);
        assertTrue(Double.isFinite(e.loss()));
        assertEquals(referenceLoss(x, w, new int[]{0, 1}, 5, 4), e.loss(), 1e-6 * Math.abs(e.loss()));
    }

    @Test
    void mOneIsSoftmaxOverNormalisedWeightsForAnyLambda() {
        Random r = new Random(13);
        double[][] w = randomMatrix(r, D, C, 1.0);
        double[][] x = randomMatrix(r, 3, D, 2.0);
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
