package io.spherekit.trainer;

import io.spherekit.trainer.head.SoftmaxHead;
import io.spherekit.trainer.model.SphereFaceNet;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

public class GradProbe {
    public static void main(String[] a) {
        int classes = 10, b = Integer.getInteger("b", 4);
        var conf = SphereFaceNet.configuration(4, 0.125, 16, 32, 32,
                new SoftmaxHead(0, classes), new Sgd(0.01), new Sgd(0.01), 0, 1);
        if (a.length > 0 && a[0].equals("nocache")) conf.setCacheMode(org.deeplearning4j.nn.conf.CacheMode.NONE);
        if (a.length > 0 && a[0].equals("nows")) { conf.setTrainingWorkspaceMode(org.deeplearning4j.nn.conf.WorkspaceMode.NONE); conf.setInferenceWorkspaceMode(org.deeplearning4j.nn.conf.WorkspaceMode.NONE);}
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        INDArray x = Nd4j.randn(DataType.FLOAT, b, 3, 32, 32);
        INDArray y = Nd4j.zeros(DataType.FLOAT, b, classes);
        for (int i = 0; i < b; i++) y.putScalar(i, i, 1);
        net.setInputs(x); net.setLabels(y);
        net.computeGradientAndScore();
        double s0 = net.score();
        var g = net.gradient().gradientForVariable();
        for (String k : new String[]{"conv1_1_W", "relu1_1_alpha", "conv4_1_b", "fc5_W", "fc6_W"}) {
            INDArray p = net.paramTable().get(k);
            INDArray gr = g.get(k).dup();
            // finite difference on first 3 entries
            for (int i = 0; i < 3; i++) {
                double orig = p.getDouble(i);
                double h = 1e-2;
                p.putScalar(i, orig + h); net.computeGradientAndScore(); double sp = net.score();
                p.putScalar(i, orig - h); net.computeGradientAndScore(); double sm = net.score();
                p.putScalar(i, orig);
                System.out.printf("%s[%d] analytic %.6g numeric %.6g%n", k, i, gr.getDouble(i), (sp - sm) / (2 * h));
            }
        }
    }
}
