package io.spherekit.trainer.model;

import io.spherekit.trainer.head.SoftmaxHead;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Analytic gradients of every parameter tensor (the conv layers through libnd4j conv2d_bp with the OIHW↔YXIO weight
 * copies, the PReLU layers, fc5 and the softmax head, with a residual Add in between), a random sample of entries of
 * each, against central finite differences (double precision). A factor error in either direction
 * (as DL4J M2.1's doubled SameDiffLayer gradients, which the first SameDiff versions of these layers had to halve)
 * fails it.
 */
class BackboneGradientTest {

    @Test
    void gradientsMatchFiniteDifferences() {
        Nd4j.getRandom().setSeed(1);
        ComputationGraph net = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(1)
                .dataType(DataType.DOUBLE).updater(new Sgd(0.1)).graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutional(8, 6, 2))
                .addLayer("c1", new SphereConv2D(0, 3, new int[]{3, 3}, new int[]{2, 2}, new int[]{1, 1}, SphereConv2D.Init.XAVIER), "in")
                .addLayer("p1", new ChannelPReLU(0), "c1")
                .addLayer("c2", new SphereConv2D(0, 3, new int[]{3, 3}, new int[]{1, 1}, new int[]{1, 1}, SphereConv2D.Init.GAUSSIAN)
                        .withGaussianStd(0.3), "p1")
                .addLayer("p2", new ChannelPReLU(0), "c2")
                .addVertex("res", new ElementWiseVertex(ElementWiseVertex.Op.Add), "p1", "p2")
                .addLayer("fc5", new DenseLayer.Builder().nOut(4).activation(Activation.IDENTITY).build(), "res")
                .addLayer("head", new SoftmaxHead(0, 3), "fc5")
                .setOutputs("head").build());
        net.init();
        int batch = 3;
        INDArray x = Nd4j.randn(DataType.DOUBLE, batch, 2, 8, 6);
        INDArray y = Nd4j.zeros(DataType.DOUBLE, batch, 3);
        y.putScalar(0, 0, 1);
        y.putScalar(1, 2, 1);
        y.putScalar(2, 1, 1);
        net.setInputs(x);
        net.setLabels(y);
        net.computeGradientAndScore();
        Map<String, INDArray> grads = net.gradient().gradientForVariable();
        // every parameter tensor of the net: conv weights and biases, PReLU slopes, fc5 and the head
        assertEquals(Set.of("c1_W", "c1_b", "p1_alpha", "c2_W", "c2_b", "p2_alpha", "fc5_W", "fc5_b", "head_W",
                "head_b"), net.paramTable().keySet());
        Random pick = new Random(7);
        Map<String, Integer> checked = new TreeMap<>();
        for (Map.Entry<String, INDArray> e : net.paramTable().entrySet()) {
            String key = e.getKey();
            INDArray p = e.getValue();
            INDArray g = grads.get(key);
            assertNotNull(g, "no gradient for " + key);
            assertArrayEquals(p.shape(), g.shape(), key);
            // a random sample of each tensor's entries (the first and last always), read and written through the
            // parameter's own view, whatever its order
            Set<Long> entries = new TreeSet<>(List.of(0L, p.length() - 1));
            while (entries.size() < Math.min(6, p.length())) {
                entries.add((long) pick.nextInt((int) p.length()));
            }
            for (long i : entries) {
                long[] idx = subscript(p.shape(), i);
                double o = p.getDouble(idx);
                double h = 1e-6;
                p.putScalar(idx, o + h);
                net.computeGradientAndScore();
                double lp = net.score();
                p.putScalar(idx, o - h);
                net.computeGradientAndScore();
                double lm = net.score();
                p.putScalar(idx, o);
                double num = (lp - lm) / (2 * h);
                double analytic = g.getDouble(idx) / batch; // DL4J: gradient of the summed loss
                assertEquals(num, analytic, 1e-7 + 1e-5 * Math.abs(num), key + Arrays.toString(idx));
                checked.merge(key, 1, Integer::sum);
            }
        }
        assertEquals(net.paramTable().keySet(), checked.keySet());
    }

    /** The 'c'-order subscript of flat index {@code i} in an array of the given shape. */
    private static long[] subscript(long[] shape, long i) {
        long[] idx = new long[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = i % shape[d];
            i /= shape[d];
        }
        return idx;
    }
}
