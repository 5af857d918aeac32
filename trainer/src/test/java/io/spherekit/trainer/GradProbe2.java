package io.spherekit.trainer;

import io.spherekit.trainer.head.SoftmaxHead;
import io.spherekit.trainer.model.*;
import org.deeplearning4j.nn.conf.*;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

public class GradProbe2 {
    public static void main(String[] a) {
        String variant = a[0];
        var g = new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.DOUBLE).updater(new Sgd(0.1)).graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutional(6, 6, 2));
        String prev = "in";
        if (variant.contains("conv")) { g.addLayer("c", new SdConv2D(0, 3, new int[]{3,3}, new int[]{1,1}, new int[]{1,1}, SdConv2D.Init.XAVIER), prev); prev = "c"; }
        if (variant.contains("prelu")) { g.addLayer("p", new ChannelPReLU(0), prev); prev = "p"; }
        if (variant.contains("conv2")) { g.addLayer("c2", new SdConv2D(0, 3, new int[]{3,3}, new int[]{2,2}, new int[]{1,1}, SdConv2D.Init.XAVIER), prev); prev = "c2"; }
        g.addLayer("d", new DenseLayer.Builder().nOut(5).activation(Activation.IDENTITY).build(), prev);
        g.addLayer("h", new SoftmaxHead(0, 4), "d");
        g.setOutputs("h");
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        INDArray x = Nd4j.randn(DataType.DOUBLE, 2, 2, 6, 6);
        INDArray y = Nd4j.zeros(DataType.DOUBLE, 2, 4); y.putScalar(0, 1, 1); y.putScalar(1, 3, 1);
        net.setInputs(x); net.setLabels(y);
        net.computeGradientAndScore();
        var grads = net.gradient().gradientForVariable();
        for (String k : net.paramTable().keySet()) {
            INDArray p = net.paramTable().get(k);
            INDArray gr = grads.get(k).dup();
            for (int i = 0; i < Math.min(2, p.length()); i++) {
                double orig = p.getDouble(i), h = 1e-5;
                p.putScalar(i, orig + h); net.computeGradientAndScore(); double sp = net.score();
                p.putScalar(i, orig - h); net.computeGradientAndScore(); double sm = net.score();
                p.putScalar(i, orig);
                System.out.printf("%s %s[%d] analytic/B %.6g numeric %.6g%n", variant, k, i, gr.getDouble(i) / 2, (sp - sm) / (2 * h));
            }
        }
    }
}
