package io.spherekit.trainer;

import io.spherekit.trainer.head.ASoftmaxHead;
import io.spherekit.trainer.model.SphereFaceNet;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;

public class SpeedProbe {
    public static void main(String[] a) {
        int depth = Integer.parseInt(a[0]);
        double w = Double.parseDouble(a[1]);
        int b = Integer.parseInt(a[2]);
        int steps = Integer.parseInt(a[3]);
        int classes = 1184;
        ComputationGraph net = new ComputationGraph(SphereFaceNet.configuration(depth, w, 512, 112, 96,
                (a.length>4? new io.spherekit.trainer.head.SoftmaxHead(0, classes) : new ASoftmaxHead(0, classes, 4)), new Nesterovs(0.01, 0.9), new Nesterovs(0.02, 0.9), 5e-4, 1));
        net.init();
        System.out.println("params " + net.numParams());
        INDArray x = Nd4j.randn(org.nd4j.linalg.api.buffer.DataType.FLOAT, b, 3, 112, 96);
        INDArray y = Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, b, classes);
        for (int i = 0; i < b; i++) y.putScalar(i, i % 7, 1);
        DataSet ds = new DataSet(x, y);
        for (int i = 0; i < steps; i++) {
            long t = System.nanoTime();
            net.fit(ds);
            double dt = (System.nanoTime() - t) / 1e9;
            System.out.printf("step %d loss %.4f %.1f img/s lambda %s fc5W %.4f emb %.3f%n", i, net.score(), b / dt, net.getLayer("fc6").getParam("lambda"), net.getLayer("fc5").getParam("W").norm2Number().doubleValue(), net.feedForward(x,false).get("fc5").norm2Number().doubleValue());
        }
    }
}
