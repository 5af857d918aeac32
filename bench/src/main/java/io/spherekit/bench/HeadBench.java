package io.spherekit.bench;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.util.concurrent.TimeUnit;

/**
 * Margin-head cost (suite "head"): one forward + backward ({@code computeGradientAndScore()}) of the DL4J head on a
 * tiny graph {@code input FF[D] -> head}, batch 256, D = 512, for A-Softmax (m = 4) and plain softmax, at 1184
 * (LFW DevTrain) and 10572 (CASIA-WebFace) classes. Plus {@link NaiveASoftmax}, per-element Java loops, as an
 * anchor. Score: ms per op (one batch).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class HeadBench {

    @State(Scope.Benchmark)
    public static class Dl4jHead {
        @Param({"asoftmax", "softmax"})
        public String head;
        @Param({"1184", "10572"})
        public int classes;
        @Param({"256"})
        public int batch;
        @Param({"512"})
        public int dim;

        ComputationGraph net;
        INDArray x;
        INDArray y;

        @Setup(Level.Trial)
        public void setUp() {
            net = BenchSupport.headOnly(head, dim, classes, 42);
            x = Nd4j.create(BenchSupport.gaussian(batch * dim, 1, 3.0), new long[]{batch, dim}, 'c');
            y = BenchSupport.oneHot(BenchSupport.labels(batch, classes, 2), classes);
            net.setInputs(x);
            net.setLabels(y);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            net.close();
        }
    }

    @Benchmark
    public void dl4jForwardBackward(Dl4jHead s, Blackhole bh) {
        s.net.setInputs(s.x);
        s.net.setLabels(s.y);
        s.net.computeGradientAndScore();
        bh.consume(s.net.score());
        bh.consume(s.net.gradient());
    }

    @State(Scope.Benchmark)
    public static class Naive {
        @Param({"1184", "10572"})
        public int classes;
        @Param({"256"})
        public int batch;
        @Param({"512"})
        public int dim;

        NaiveASoftmax impl;
        float[] x;
        float[] w;
        int[] y;
        float[] dx;
        float[] dw;

        @Setup(Level.Trial)
        public void setUp() {
            impl = new NaiveASoftmax(dim, classes, 5.0);
            x = BenchSupport.gaussian(batch * dim, 1, 3.0);
            w = BenchSupport.gaussian(dim * classes, 3, Math.sqrt(3.0 / dim));
            y = BenchSupport.labels(batch, classes, 2);
            dx = new float[batch * dim];
            dw = new float[dim * classes];
        }
    }

    @Benchmark
    public double naiveASoftmaxForwardBackward(Naive s, Blackhole bh) {
        double loss = s.impl.forwardBackward(s.x, s.w, s.y, s.batch, s.dx, s.dw);
        bh.consume(s.dx);
        bh.consume(s.dw);
        return loss;
    }
}
