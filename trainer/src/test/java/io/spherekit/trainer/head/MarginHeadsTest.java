package io.spherekit.trainer.head;

import io.spherekit.trainer.ModelIO;
import io.spherekit.trainer.head.HeadHarness.Out;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.learning.config.Sgd;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.Supplier;

import static io.spherekit.trainer.head.HeadHarness.gaussian;
import static org.junit.jupiter.api.Assertions.*;

/**
 * AM-Softmax, ArcFace and softmax heads against scalar references (loss and gradients by finite differences), and
 * every head (A-Softmax included) on the edge inputs: x parallel to a class weight, x = 0, huge ‖x‖, and a class
 * weight with zero norm.
 */
class MarginHeadsTest {
    static final int D = 5;
    static final int C = 4;

    interface Logit {
        double target(double cos, double xNorm);

        double other(double cos, double xNorm);
    }

    static double norm(double[] v) {
        double s = 0;
        for (double a : v) {
            s += a * a;
        }
        return Math.sqrt(s + 1e-12);
    }

    static double refLoss(double[][] x, double[][] w, int[] y, Logit f) {
        return refLoss(x, w, y, f, 0);
    }

    /** The mean over the batch of {@link #smoothedCrossEntropy} (plain cross-entropy at ε = 0) of f's logits. */
    static double refLoss(double[][] x, double[][] w, int[] y, Logit f, double eps) {
        double total = 0;
        for (int b = 0; b < x.length; b++) {
            double xn = norm(x[b]);
            double[] z = new double[C];
            for (int c = 0; c < C; c++) {
                double[] col = new double[D];
                double dot = 0;
                for (int d = 0; d < D; d++) {
                    col[d] = w[d][c];
                    dot += w[d][c] * x[b][d];
                }
                double cos = Math.max(-1, Math.min(1, dot / (norm(col) * xn)));
                z[c] = c == y[b] ? f.target(cos, xn) : f.other(cos, xn);
            }
            total += smoothedCrossEntropy(z, y[b], eps);
        }
        return total / x.length;
    }

    static final Logit AM = new Logit() {
        public double target(double c, double n) { return 30 * (c - 0.35); }
        public double other(double c, double n) { return 30 * c; }
    };
    static final Logit ARC = new Logit() {
        public double target(double c, double n) {
            double theta = Math.acos(c);
            return theta + 0.5 <= Math.PI ? 64 * Math.cos(theta + 0.5) : 64 * (c - 0.5 * Math.sin(0.5));
        }
        public double other(double c, double n) { return 64 * c; }
    };

    static Out run(Supplier<MarginHead> head, double[][] x, double[][] w, int[] y) {
        return HeadHarness.run(head.get(), x, w, y, g -> { });
    }

    static void check(Supplier<MarginHead> head, Logit f, double[][] x, double[][] w, int[] y) {
        HeadHarness.assertMatchesReference(run(head, x, w, y), (xx, ww) -> refLoss(xx, ww, y, f), x, w, 1e-4);
    }

    @Test
    void amSoftmaxMatchesReference() {
        Random r = new Random(1);
        for (int t = 0; t < 3; t++) {
            check(() -> new AmSoftmaxHead(0, C, 30, 0.35), AM, gaussian(r, 3, D, 2), gaussian(r, D, C, 1),
                    new int[]{0, 3, 1});
        }
    }

    @Test
    void arcFaceMatchesReferenceIncludingTheFallbackRegion() {
        Random r = new Random(2);
        for (int t = 0; t < 3; t++) {
            check(() -> new ArcFaceHead(0, C, 64, 0.5), ARC, gaussian(r, 3, D, 2), gaussian(r, D, C, 1),
                    new int[]{2, 0, 3});
        }
        // θ_y near π (x anti-parallel to w_y): θ + m > π, the fallback branch
        double[][] w = gaussian(r, D, C, 1);
        // (batch 2: with a single-row batch the I_B-dense harness itself mis-scales DL4J's input gradient)
        double[][] x = new double[2][D];
        for (int d = 0; d < D; d++) {
            x[0][d] = -2 * w[d][1] + 1e-2 * r.nextGaussian();
            x[1][d] = r.nextGaussian();
        }
        check(() -> new ArcFaceHead(0, C, 64, 0.5), ARC, x, w, new int[]{1, 0});
    }

    @Test
    void softmaxMatchesReference() {
        Random r = new Random(3);
        double[][] x = gaussian(r, 3, D, 1);
        double[][] w = gaussian(r, D, C, 1);
        Out o = run(() -> new SoftmaxHead(0, C), x, w, new int[]{1, 2, 0});
        double total = 0;
        int[] y = {1, 2, 0};
        for (int b = 0; b < 3; b++) {
            double[] z = new double[C];
            for (int c = 0; c < C; c++) {
                for (int d = 0; d < D; d++) {
                    z[c] += x[b][d] * w[d][c];
                }
            }
            total += HeadHarness.crossEntropy(z, y[b]);
        }
        assertEquals(total / 3, o.loss(), 1e-10);
    }

    /** −(1 − ε)·log p_y − (ε/C)·Σ_j log p_j, written as a mixture of plain cross-entropies. */
    static double smoothedCrossEntropy(double[] z, int y, double eps) {
        double s = (1 - eps) * HeadHarness.crossEntropy(z, y);
        for (int j = 0; j < z.length; j++) {
            s += eps / z.length * HeadHarness.crossEntropy(z, j);
        }
        return s;
    }

    @Test
    void labelSmoothingMatchesTheSmoothedCrossEntropyForSoftmaxAndAMSoftmax() {
        Random r = new Random(5);
        double eps = 0.1;
        int[] y = {1, 3, 0};
        double[][] x = gaussian(r, 3, D, 1);
        double[][] w = gaussian(r, D, C, 1);
        Consumer<ComputationGraph> smooth = g -> ((MarginHeadLayer) g.getLayer("head")).setLabelSmoothing(eps);
        HeadHarness.assertMatchesReference(HeadHarness.run(new SoftmaxHead(0, C), x, w, y, smooth), (xx, ww) -> {
            double total = 0;
            for (int b = 0; b < xx.length; b++) {
                double[] z = new double[C];
                for (int c = 0; c < C; c++) {
                    for (int d = 0; d < D; d++) {
                        z[c] += xx[b][d] * ww[d][c];
                    }
                }
                total += smoothedCrossEntropy(z, y[b], eps);
            }
            return total / xx.length;
        }, x, w, 1e-5);
        Logit am10 = new Logit() {
            public double target(double c, double n) { return 10 * (c - 0.35); }
            public double other(double c, double n) { return 10 * c; }
        };
        HeadHarness.assertMatchesReference(HeadHarness.run(new AmSoftmaxHead(0, C, 10, 0.35), x, w, y, smooth),
                (xx, ww) -> refLoss(xx, ww, y, am10, eps), x, w, 1e-4);
        // the setting acts (the reference check above would also pass if the layer ignored ε only when ε = 0)
        Out plain = HeadHarness.run(new SoftmaxHead(0, C), x, w, y, g -> { });
        Out smoothed = HeadHarness.run(new SoftmaxHead(0, C), x, w, y, smooth);
        assertNotEquals(plain.loss(), smoothed.loss(), 1e-6);
        assertThrows(IllegalArgumentException.class,
                () -> HeadHarness.run(new SoftmaxHead(0, C), x, w, y, g -> ((MarginHeadLayer) g.getLayer("head"))
                        .setLabelSmoothing(1.0)));
    }

    static void assertFinite(Out o, String what) {
        assertTrue(Double.isFinite(o.loss()), what + ": loss " + o.loss());
        for (double[] row : o.gx()) {
            for (double v : row) {
                assertTrue(Double.isFinite(v), what + ": dL/dx not finite: " + v);
            }
        }
        for (double[] row : o.gw()) {
            for (double v : row) {
                assertTrue(Double.isFinite(v), what + ": dL/dW not finite: " + v);
            }
        }
    }

    @Test
    void everyHeadIsFiniteOnEdgeInputs() {
        List<Supplier<MarginHead>> heads = List.of(
                () -> new ASoftmaxHead(0, C, 4), () -> new AmSoftmaxHead(0, C, 30, 0.35),
                () -> new ArcFaceHead(0, C, 64, 0.5), () -> new SoftmaxHead(0, C));
        Random r = new Random(4);
        for (Supplier<MarginHead> h : heads) {
            String name = h.get().headName();
            double[][] w = gaussian(r, D, C, 1);
            // x exactly parallel to its class weight (cos θ = 1) and anti-parallel to another's
            double[][] parallel = new double[2][D];
            for (int d = 0; d < D; d++) {
                parallel[0][d] = 3 * w[d][0];
                parallel[1][d] = -3 * w[d][2];
            }
            assertFinite(run(h, parallel, w, new int[]{0, 2}), name + ", x parallel to a class weight");
            // x = 0: every cos θ is 0; A-Softmax's logits are ‖x‖-scaled (‖x‖ = 1e-6 with the norm's ε) and
            // softmax's are its zero-initialised biases, so both give ln C; the scaled heads give their margin's loss
            double[][] zero = new double[2][D];
            Out atZero = run(h, zero, w, new int[]{1, 3});
            assertFinite(atZero, name + ", x = 0");
            double expected = switch (name) {
                case "amsoftmax" -> refLoss(zero, w, new int[]{1, 3}, AM);
                case "arcface" -> refLoss(zero, w, new int[]{1, 3}, ARC);
                default -> Math.log(C);
            };
            assertEquals(expected, atZero.loss(), 1e-5, name + ", loss at x = 0");
            // huge ‖x‖
            assertFinite(run(h, gaussian(r, 2, D, 1e6), w, new int[]{0, 1}), name + ", ‖x‖ ~ 1e6");
            // a class weight with zero norm
            double[][] w0 = gaussian(r, D, C, 1);
            for (int d = 0; d < D; d++) {
                w0[d][3] = 0;
            }
            assertFinite(run(h, gaussian(r, 2, D, 1), w0, new int[]{3, 0}), name + ", a zero-norm class weight");
        }
    }

    @Test
    void constructorsRejectBadHyperParameters() {
        assertThrows(IllegalArgumentException.class, () -> new AmSoftmaxHead(D, C, 0, 0.35));
        assertThrows(IllegalArgumentException.class, () -> new ArcFaceHead(D, C, 64, 2.0));
        assertThrows(IllegalArgumentException.class, () -> new SoftmaxHead(D, 1));
    }

    @Test
    void scaledHeadsSurviveAModelFileRoundTrip(@TempDir Path tmp) throws Exception {
        for (MarginHead h : List.of(new AmSoftmaxHead(0, C, 20, 0.25), new ArcFaceHead(0, C, 32, 0.3))) {
            ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().updater(new Sgd(0.1))
                    .graphBuilder().addInputs("in").setInputTypes(InputType.feedForward(D))
                    .addLayer("head", h, "in").setOutputs("head").build());
            g.init();
            Path f = tmp.resolve(h.headName() + ".zip");
            ModelIO.save(g, Map.of(), f, false);
            var back = (ScaledMarginHead) ((LayerVertex) ModelIO
                    .load(f, false).graph().getConfiguration().getVertices().get("head")).getLayerConf().getLayer();
            assertEquals(h.getClass(), back.getClass());
            assertEquals(((ScaledMarginHead) h).getS(), back.getS());
            assertEquals(((ScaledMarginHead) h).getM(), back.getM());
        }
    }
}
