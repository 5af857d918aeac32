package io.spherekit.bench;

import io.spherekit.trainer.Dl4jEmbedder;
import io.spherekit.trainer.ModelIO;
import io.spherekit.trainer.model.SphereFaceNet;
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

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * DL4J inference of the same weights as the ONNX model (suite "dl4j-infer"): the saved SphereKit model zip
 * ({@link ModelIO#load}), {@code ComputationGraph.output(List.of("fc5"), false, input, null)}: the layers up to the
 * embedding, the head skipped. Batch 32 throughput (ops/s × 32 = img/s) and
 * batch 1 SampleTime latency.
 */
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(1)
public class Dl4jInferenceBench {

    @State(Scope.Benchmark)
    public static class Net {
        @Param({"bench/target/models/sf20.zip"})
        public String model;

        ComputationGraph graph;
        INDArray x1;
        INDArray x32;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            graph = ModelIO.load(Path.of(model), false).graph();
            long[] chw = {3, BenchSupport.HEIGHT, BenchSupport.WIDTH};
            x1 = Nd4j.create(BenchSupport.images(1, 7), new long[]{1, chw[0], chw[1], chw[2]}, 'c');
            x32 = Nd4j.create(BenchSupport.images(32, 8), new long[]{32, chw[0], chw[1], chw[2]}, 'c');
        }

        INDArray embed(INDArray x) {
            // As SphereKit's own DL4J-side code does (OrtCheck, Dl4jEmbedder): only the layers up to fc5 run and
            // only fc5's activation leaves the workspaces. (feedForward(x, false), used before, detached every
            // layer's activation; M2.1's feedForward(x, layerTillIndex, train) failed with an index error here.)
            return Dl4jEmbedder.activation(graph, SphereFaceNet.EMBEDDING, x);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            graph.close();
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public INDArray batch32(Net n) {
        return n.embed(n.x32);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public INDArray batch1(Net n) {
        return n.embed(n.x1);
    }
}
