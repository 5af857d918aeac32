package io.spherekit.trainer.head;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * What the head tests share: a head's loss and gradients on given inputs and class weights, their check against a
 * scalar reference by central differences, and the reference's softmax cross-entropy.
 */
final class HeadHarness {

    private HeadHarness() {
    }

    /** The mean loss of a batch and its gradients with respect to the inputs x (B x D) and the class weights (D x C). */
    record Out(double loss, double[][] gx, double[][] gw) {
    }

    /** A scalar reference: the mean loss of inputs x and class weights w (labels and settings captured). */
    interface Reference {
        double loss(double[][] x, double[][] w);
    }

    /**
     * Runs input I_B → dense (no bias, W = x) → head in double precision, so the dense layer's weight gradient is
     * dLoss/dx.
     *
     * @param head   the head (nIn 0, C classes); its class weights are set to {@code w}
     * @param params sets the head's other parameters after the weights (e.g. A-Softmax's λ)
     */
    static Out run(MarginHead head, double[][] x, double[][] w, int[] y, Consumer<ComputationGraph> params) {
        int batch = x.length;
        int classes = w[0].length;
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .updater(new Sgd(0.0)).graphBuilder().addInputs("in").setInputTypes(InputType.feedForward(batch))
                .addLayer("x", new DenseLayer.Builder().nOut(w.length).hasBias(false).activation(Activation.IDENTITY)
                        .build(), "in")
                .addLayer("head", head, "x").setOutputs("head").build());
        g.init();
        g.getLayer("x").getParam("W").assign(Nd4j.create(x)); // I_B · x = x
        g.getLayer("head").getParam("W").assign(Nd4j.create(w));
        params.accept(g);
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, batch, classes);
        for (int b = 0; b < batch; b++) {
            labels.putScalar(b, y[b], 1.0);
        }
        g.setInputs(Nd4j.eye(batch).castTo(DataType.DOUBLE));
        g.setLabels(labels);
        g.computeGradientAndScore();
        // DL4J gradients are of the summed loss; the score is the mean.
        return new Out(g.score(), g.gradient().getGradientFor("x_W").div(batch).toDoubleMatrix(),
                g.gradient().getGradientFor("head_W").div(batch).toDoubleMatrix());
    }

    /**
     * Asserts {@code o} against the reference: the loss to 1e-9 + 1e-7 |ref|, each gradient entry to
     * {@code gradTolerance} + 1e-4 |numeric| (central differences, h = 1e-6, of the reference at x and w).
     */
    static void assertMatchesReference(Out o, Reference ref, double[][] x, double[][] w, double gradTolerance) {
        double expected = ref.loss(x, w);
        assertTrue(Double.isFinite(o.loss()), "loss not finite");
        assertEquals(expected, o.loss(), 1e-9 + 1e-7 * Math.abs(expected), "loss vs scalar reference");
        assertGradient("dL/dx", o.gx(), x, () -> ref.loss(x, w), gradTolerance);
        assertGradient("dL/dW", o.gw(), w, () -> ref.loss(x, w), gradTolerance);
    }

    /** Asserts {@code grad} against central differences of {@code loss} in each entry of {@code at}. */
    private static void assertGradient(String what, double[][] grad, double[][] at, DoubleSupplier loss,
                                       double gradTolerance) {
        double h = 1e-6;
        for (int i = 0; i < at.length; i++) {
            for (int j = 0; j < at[i].length; j++) {
                double v = at[i][j];
                at[i][j] = v + h;
                double lp = loss.getAsDouble();
                at[i][j] = v - h;
                double lm = loss.getAsDouble();
                at[i][j] = v;
                double num = (lp - lm) / (2 * h);
                assertTrue(Double.isFinite(grad[i][j]), what + " not finite");
                assertEquals(num, grad[i][j], gradTolerance + 1e-4 * Math.abs(num), what + "[" + i + "][" + j + "]");
            }
        }
    }

    /** -log softmax(z)[y], as logsumexp(z) - z[y] with the maximum taken out. */
    static double crossEntropy(double[] z, int y) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v);
        }
        double s = 0;
        for (double v : z) {
            s += Math.exp(v - max);
        }
        return max + Math.log(s) - z[y];
    }

    /** A rows x cols matrix of N(0, scale²) entries. */
    static double[][] gaussian(Random r, int rows, int cols, double scale) {
        double[][] a = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                a[i][j] = r.nextGaussian() * scale;
            }
        }
        return a;
    }
}
