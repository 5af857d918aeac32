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

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Analytic gradients of the conv layers (libnd4j conv2d_bp with the OIHW↔YXIO weight copies), the PReLU layers, a
 * residual Add and fc5 against central finite differences (double precision). A factor error in either direction
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
        int checked = 0;
        for (String key : new String[]{"c1_W", "c1_b", "p1_alpha", "c2_W", "p2_alpha", "fc5_b", "head_W"}) {
            INDArray p = net.getParam(key);
            INDArray g = grads.get(key).dup().reshape(p.length()).div(batch); // DL4J: gradient of the summed loss
            INDArray flat = p.reshape(p.length());
            for (int i = 0; i < Math.min(4, p.length()); i++) {
                double o = flat.getDouble(i);
                double h = 1e-6;
                flat.putScalar(i, o + h);
                net.computeGradientAndScore();
                double lp = net.score();
                flat.putScalar(i, o - h);
                net.computeGradientAndScore();
                double lm = net.score();
                flat.putScalar(i, o);
                double num = (lp - lm) / (2 * h);
                assertEquals(num, g.getDouble(i), 1e-7 + 1e-5 * Math.abs(num), key + "[" + i + "]");
                checked++;
            }
        }
        assertEquals(4 + 3 + 3 + 4 + 3 + 4 + 4, checked);
    }
}
