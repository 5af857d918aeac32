package io.spherekit.trainer.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spherekit.trainer.head.ASoftmaxHead;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DL4J {@link ASoftmaxHead} vs the Keras A-Softmax layer of {@code keras_reference.py} (float64, JAX autodiff) on
 * the same x, W and labels: loss (mean softmax cross-entropy over the batch), dL/dx and dL/dW, for m = 1..4 and
 * λ ∈ {1000, 20, 5, 0}.
 *
 * <p>Loss: relative difference {@code |a − b| / |b|} ≤ 1e-5. Gradients: {@code max|Δ| / max|ref|} over the whole
 * matrix ≤ 1e-4 (normalised by the matrix's largest entry, so tiny entries are not judged on their own).
 */
class ASoftmaxKerasParityTest {

    static final double LOSS_TOL = 1e-5;
    static final double GRAD_TOL = 1e-4;

    static double[][] matrix(JsonNode n) {
        double[][] a = new double[n.size()][];
        for (int i = 0; i < n.size(); i++) {
            a[i] = new double[n.get(i).size()];
            for (int j = 0; j < a[i].length; j++) {
                a[i][j] = n.get(i).get(j).asDouble();
            }
        }
        return a;
    }

    /** max|a − b| / max|b|. */
    static double relMax(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue() / b.amaxNumber().doubleValue();
    }

    @Test
    void lossAndGradientsMatchKeras() throws IOException {
        JsonNode ref = new ObjectMapper().readTree(KerasReferences.dir().resolve("asoftmax_reference.json").toFile());
        double[][] x = matrix(ref.path("x"));
        double[][] w = matrix(ref.path("W"));
        int batch = x.length;
        int dim = w.length;
        int classes = w[0].length;
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, batch, classes);
        for (int b = 0; b < batch; b++) {
            labels.putScalar(b, ref.path("labels").get(b).asInt(), 1.0);
        }
        List<String> failures = new ArrayList<>();
        double worstLoss = 0, worstGx = 0, worstGw = 0;
        for (JsonNode c : ref.path("cases")) {
            int m = c.path("m").asInt();
            double lambda = c.path("lambda").asDouble();
            // input I_B → bias-free identity Dense with W = X → head: the Dense weight gradient is dL/dX
            ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                    .updater(new Sgd(0.0)).graphBuilder().addInputs("in").setInputTypes(InputType.feedForward(batch))
                    .addLayer("x", new DenseLayer.Builder().nOut(dim).hasBias(false)
                            .activation(Activation.IDENTITY).build(), "in")
                    .addLayer("head", new ASoftmaxHead(0, classes, m), "x").setOutputs("head").build());
            g.init();
            g.getLayer("x").getParam("W").assign(Nd4j.create(x));
            g.getLayer("head").getParam("W").assign(Nd4j.create(w));
            g.getLayer("head").getParam(ASoftmaxHead.LAMBDA).assign(lambda);
            g.setInputs(Nd4j.eye(batch).castTo(DataType.DOUBLE));
            g.setLabels(labels);
            g.computeGradientAndScore();
            double loss = g.score(); // mean over the batch
            INDArray gx = g.gradient().getGradientFor("x_W").div(batch); // DL4J's gradients are of the sum
            INDArray gw = g.gradient().getGradientFor("head_W").div(batch);

            double kLoss = c.path("loss").asDouble();
            double dLoss = Math.abs(loss - kLoss) / Math.abs(kLoss);
            double dGx = relMax(gx, Nd4j.create(matrix(c.path("dx"))));
            double dGw = relMax(gw, Nd4j.create(matrix(c.path("dW"))));
            worstLoss = Math.max(worstLoss, dLoss);
            worstGx = Math.max(worstGx, dGx);
            worstGw = Math.max(worstGw, dGw);
            System.out.printf("[keras parity] A-Softmax m=%d λ=%-6s loss keras %.10f dl4j %.10f  rel %.2e | "
                    + "dL/dx rel %.2e | dL/dW rel %.2e%n", m, lambda, kLoss, loss, dLoss, dGx, dGw);
            if (!(dLoss <= LOSS_TOL) || !(dGx <= GRAD_TOL) || !(dGw <= GRAD_TOL)) {
                failures.add("m=" + m + " λ=" + lambda + ": loss " + dLoss + ", dx " + dGx + ", dW " + dGw);
            }
        }
        System.out.printf("[keras parity] A-Softmax worst over %d cases: loss rel %.2e, dL/dx rel %.2e, dL/dW rel "
                + "%.2e%n", ref.path("cases").size(), worstLoss, worstGx, worstGw);
        assertTrue(ref.path("cases").size() == 16, "expected m=1..4 × 4 λ values");
        assertTrue(failures.isEmpty(), "Keras vs DL4J A-Softmax mismatches: " + failures);
    }
}
