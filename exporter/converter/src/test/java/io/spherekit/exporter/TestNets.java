package io.spherekit.exporter;

import io.spherekit.trainer.head.ASoftmaxHead;
import io.spherekit.trainer.model.SphereFaceNet;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;

import java.util.Map;

/** Small SphereFace networks with random (not init-default) weights, for export tests. */
final class TestNets {
    static final double WIDTH = 0.125;
    static final int DIM = 128;

    private TestNets() {
    }

    static ComputationGraph sphereFace(int depth, long seed) {
        ComputationGraph g = new ComputationGraph(SphereFaceNet.configuration(depth, WIDTH, DIM, 112, 96,
                new ASoftmaxHead(0, 10, 4), new Nesterovs(0.01, 0.9), new Nesterovs(0.02, 0.9), 5e-4, seed));
        g.init();
        randomize(g, seed);
        return g;
    }

    /**
     * Replaces every parameter with random values of a sane scale: weights N(0, 1/fanIn), biases N(0, 0.1²),
     * PReLU slopes U(0, 0.5). The default init (zero biases, slope 0.25 everywhere) would hide layout bugs.
     */
    static void randomize(ComputationGraph g, long seed) {
        Nd4j.getRandom().setSeed(seed);
        for (Layer layer : g.getLayers()) {
            for (Map.Entry<String, INDArray> e : layer.paramTable().entrySet()) {
                INDArray p = e.getValue();
                long[] s = p.shape();
                switch (e.getKey()) {
                    case "alpha" -> p.assign(Nd4j.rand(p.dataType(), s).muli(0.5));
                    case "b" -> p.assign(Nd4j.randn(p.dataType(), s).muli(0.1));
                    case "W" -> {
                        long fanIn = s.length == 4 ? s[1] * s[2] * s[3] : s[0];
                        p.assign(Nd4j.randn(p.dataType(), s).muli(Math.sqrt(1.0 / fanIn)));
                    }
                    default -> p.assign(Nd4j.randn(p.dataType(), s).muli(0.1));
                }
            }
        }
    }
}
