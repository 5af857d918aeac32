package io.spherekit.trainer.head;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Runtime behaviour of {@link MarginHeadLayer} beyond the loss/gradient references of {@link ASoftmaxHeadTest} and
 * {@link MarginHeadsTest}: float32 against float64, the underflow path of the loss, batch-size changes (scratch
 * reuse), score without a backward pass, activations, and label validation.
 */
class MarginHeadLayerTest {
    static final int D = 16;
    static final int C = 12;

    static final List<Supplier<MarginHead>> HEADS = List.of(
            () -> new ASoftmaxHead(0, C, 4),
            () -> new AmSoftmaxHead(0, C, 30, 0.35),
            () -> new ArcFaceHead(0, C, 64, 0.5),
            () -> new SoftmaxHead(0, C));

    static ComputationGraph net(MarginHead head, DataType type) {
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().dataType(type).seed(3)
                .updater(new Sgd(0.0)).graphBuilder().addInputs("in").setInputTypes(InputType.feedForward(D))
                .addLayer("head", head, "in").setOutputs("head").build());
        g.init();
        return g;
    }

    static INDArray oneHot(int[] y, DataType type) {
        INDArray l = Nd4j.zeros(type, y.length, C);
        for (int b = 0; b < y.length; b++) {
            l.putScalar(b, y[b], 1.0);
        }
        return l;
    }

    static double[][] gaussian(Random r, int rows, int cols, double scale) {
        double[][] m = new double[rows][cols];
        for (double[] row : m) {
            for (int j = 0; j < cols; j++) {
                row[j] = r.nextGaussian() * scale;
            }
        }
        return m;
    }

    static int[] labels(Random r, int n) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(C);
        }
        return y;
    }

    record Result(double score, INDArray gW, INDArray gX) {
    }

    /** Score and gradients (W, and ∂L/∂x via backpropGradient) of one batch. */
    static Result eval(MarginHead head, DataType type, double[][] w, double[][] x, int[] y, double lambda) {
        ComputationGraph g = net(head, type);
        g.getLayer("head").getParam("W").assign(Nd4j.create(w).castTo(type));
        if (head instanceof ASoftmaxHead) {
            g.getLayer("head").getParam(ASoftmaxHead.LAMBDA).assign(lambda);
        }
        g.setInputs(Nd4j.create(x).castTo(type));
        g.setLabels(oneHot(y, type));
        g.computeGradientAndScore();
        double score = g.score();
        INDArray gW = g.gradient().getGradientFor("head_W").castTo(DataType.DOUBLE).dup();
        // ∂L/∂x straight from the layer (the graph clears layer inputs after its pass)
        var mgr = LayerWorkspaceMgr.noWorkspaces();
        MarginHeadLayer layer = (MarginHeadLayer) g.getLayer("head");
        layer.setInput(Nd4j.create(x).castTo(type), mgr);
        layer.setLabels(oneHot(y, type));
        INDArray gX = layer.backpropGradient(null, mgr).getSecond();
        return new Result(score, gW, gX.castTo(DataType.DOUBLE).dup());
    }

    static double maxRel(INDArray a, INDArray b) {
        double scale = Math.max(1e-6, b.amaxNumber().doubleValue());
        return a.sub(b).amaxNumber().doubleValue() / scale;
    }

    @Test
    void float32MatchesFloat64ForEveryHead() {
        Random r = new Random(11);
        double[][] w = gaussian(r, D, C, 0.3);
        double[][] x = gaussian(r, 8, D, 1.0);
        int[] y = labels(r, 8);
        for (Supplier<MarginHead> h : HEADS) {
            Result d = eval(h.get(), DataType.DOUBLE, w, x, y, 5.0);
            Result f = eval(h.get(), DataType.FLOAT, w, x, y, 5.0);
            String name = h.get().headName();
            assertEquals(d.score(), f.score(), 1e-5 * Math.max(1, Math.abs(d.score())), name + " score");
            assertTrue(maxRel(f.gW(), d.gW()) < 1e-4, name + " dW rel " + maxRel(f.gW(), d.gW()));
            assertTrue(maxRel(f.gX(), d.gX()) < 1e-4, name + " dx rel " + maxRel(f.gX(), d.gX()));
        }
    }

    @Test
    void lossStaysExactWhenTheTargetProbabilityUnderflowsInFloat32() {
        // ‖x‖ ≈ 400 with the target class opposite to x: the target logit sits ~800 below the best one, so
        // p_y underflows to 0 in float32 and the loss must come from the log-sum-exp fallback.
        Random r = new Random(5);
        double[][] w = gaussian(r, D, C, 0.3);
        double[][] x = new double[4][D];
        int[] y = {0, 1, 2, 3};
        for (int b = 0; b < 4; b++) {
            for (int d = 0; d < D; d++) {
                x[b][d] = -w[d][y[b]] * 400 / 0.3 / Math.sqrt(D);
            }
        }
        Result d = eval(new ASoftmaxHead(0, C, 4), DataType.DOUBLE, w, x, y, 0.0);
        Result f = eval(new ASoftmaxHead(0, C, 4), DataType.FLOAT, w, x, y, 0.0);
        assertTrue(d.score() > 100, "the setup must give a huge loss, got " + d.score());
        assertTrue(Double.isFinite(f.score()), "float32 loss not finite");
        assertEquals(d.score(), f.score(), 1e-5 * d.score(), "float32 loss with p_y = 0");
    }

    @Test
    void batchSizeChangesGiveTheSameResultsAsFreshNets() {
        Random r = new Random(7);
        double[][] w = gaussian(r, D, C, 0.3);
        double[][] big = gaussian(r, 6, D, 1.0);
        double[][] small = Arrays.copyOf(big, 3);
        int[] yBig = labels(r, 6);
        int[] ySmall = Arrays.copyOf(yBig, 3);
        for (Supplier<MarginHead> h : HEADS) {
            ComputationGraph g = net(h.get(), DataType.FLOAT);
            g.getLayer("head").getParam("W").assign(Nd4j.create(w).castTo(DataType.FLOAT));
            g.setInputs(Nd4j.create(big).castTo(DataType.FLOAT));
            g.setLabels(oneHot(yBig, DataType.FLOAT));
            g.computeGradientAndScore();
            g.setInputs(Nd4j.create(small).castTo(DataType.FLOAT));
            g.setLabels(oneHot(ySmall, DataType.FLOAT));
            g.computeGradientAndScore();
            Result fresh = eval(h.get(), DataType.FLOAT, w, small, ySmall, 1000.0);
            assertEquals(fresh.score(), g.score(), 1e-6 * Math.max(1, fresh.score()), h.get().headName());
            assertEquals(0.0, maxRel(g.gradient().getGradientFor("head_W").castTo(DataType.DOUBLE), fresh.gW()),
                    1e-6, h.get().headName() + " dW after a batch-size change");
        }
    }

    @Test
    void scoreWithoutBackwardEqualsTheTrainingScore() {
        Random r = new Random(9);
        double[][] x = gaussian(r, 5, D, 1.0);
        int[] y = labels(r, 5);
        for (Supplier<MarginHead> h : HEADS) {
            ComputationGraph g = net(h.get(), DataType.DOUBLE);
            INDArray in = Nd4j.create(x);
            INDArray lab = oneHot(y, DataType.DOUBLE);
            double viaScore = g.score(new DataSet(in, lab), true);
            g.setInputs(in);
            g.setLabels(lab);
            g.computeGradientAndScore();
            assertEquals(g.score(), viaScore, 1e-12 * Math.max(1, viaScore), h.get().headName());
            assertTrue(viaScore > 0, h.get().headName() + " cross-entropy must be positive");
        }
    }

    @Test
    void activationsAreSoftmaxOfTheMarginFreeLogits() {
        Random r = new Random(13);
        double[][] x = gaussian(r, 3, D, 1.0);
        ComputationGraph g = net(new ASoftmaxHead(0, C, 4), DataType.DOUBLE);
        INDArray w = g.getLayer("head").getParam("W");
        INDArray in = Nd4j.create(x);
        INDArray out = g.outputSingle(in);
        for (int b = 0; b < 3; b++) {
            double[] logits = new double[C];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < C; j++) {
                INDArray col = w.getColumn(j);
                logits[j] = in.getRow(b).mul(col).sumNumber().doubleValue()
                        / Math.sqrt(col.mul(col).sumNumber().doubleValue() + MarginHead.NORM_EPS);
                max = Math.max(max, logits[j]);
            }
            double sum = 0;
            for (double v : logits) {
                sum += Math.exp(v - max);
            }
            for (int j = 0; j < C; j++) {
                assertEquals(Math.exp(logits[j] - max) / sum, out.getDouble(b, j), 1e-12, "p[" + b + "][" + j + "]");
            }
        }
    }

    @Test
    void nonOneHotLabelsAreRejectedWithTheRow() {
        ComputationGraph g = net(new ASoftmaxHead(0, C, 4), DataType.DOUBLE);
        INDArray lab = Nd4j.zeros(DataType.DOUBLE, 2, C);
        lab.putScalar(0, 3, 1.0);
        lab.putScalar(1, 4, 0.5);
        lab.putScalar(1, 5, 0.5);
        g.setInputs(Nd4j.rand(DataType.DOUBLE, 2, D));
        g.setLabels(lab);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, g::computeGradientAndScore);
        assertTrue(e.getMessage().contains("one-hot") && e.getMessage().contains("row 1"), e.getMessage());
    }
}
