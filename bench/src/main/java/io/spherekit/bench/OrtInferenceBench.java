package io.spherekit.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.spherekit.runtime.LargeStack;
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

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * ONNX Runtime Java inference of an exported SphereFace ONNX model (suite "ort"): a raw {@link OrtSession} per
 * (intra-op threads, graph optimisation level), so the session-option variants are visible; input tensor creation
 * and output copy-out are included (what {@code FaceEmbedder.embedTensor} does).
 * <ul>
 *   <li>{@code batch32}: throughput, ops/s (× 32 = images/s);</li>
 *   <li>{@code batch1}: SampleTime, latency distribution (p50/p99 in the JMH result).</li>
 * </ul>
 * Param {@code model}: path of the .onnx (run-all.sh passes the exported SphereFace-20).
 */
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(1)
public class OrtInferenceBench {

    @State(Scope.Benchmark)
    public static class Session {
        @Param({"bench/target/models/sf20.onnx"})
        public String model;
        @Param({"1", "2"})
        public int intraOpThreads;
        @Param({"ALL", "BASIC"})
        public String optLevel;

        OrtEnvironment env;
        OrtSession session;
        String inputName;
        float[] x1;
        float[] x32;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            Path p = Path.of(model);
            if (!Files.isRegularFile(p)) {
                throw new IllegalStateException("model not found: " + p.toAbsolutePath() + " (run bench/run-all.sh, or -p model=...)");
            }
            env = LargeStack.environment();
            OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
            opts.setIntraOpNumThreads(intraOpThreads);
            opts.setInterOpNumThreads(1);
            opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            opts.setOptimizationLevel(switch (optLevel) {
                case "ALL" -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
                case "EXTENDED" -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
                case "BASIC" -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
                case "NONE" -> OrtSession.SessionOptions.OptLevel.NO_OPT;
                default -> throw new IllegalArgumentException("optLevel: ALL, EXTENDED, BASIC or NONE");
            });
            // Model loading recurses deeply in native code: a large-stack thread, as the runtime does.
            session = LargeStack.call("bench-ort-session", () -> env.createSession(p.toString(), opts));
            inputName = session.getInputNames().iterator().next();
            x1 = BenchSupport.images(1, 7);
            x32 = BenchSupport.images(32, 8);
        }

        float[][] run(float[] x, int n) throws OrtException {
            long[] shape = {n, 3, BenchSupport.HEIGHT, BenchSupport.WIDTH};
            try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
                 OrtSession.Result r = session.run(Map.of(inputName, in))) {
                return (float[][]) r.get(0).getValue();
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() throws OrtException {
            session.close();
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public float[][] batch32(Session s) throws OrtException {
        return s.run(s.x32, 32);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public float[][] batch1(Session s) throws OrtException {
        return s.run(s.x1, 1);
    }
}
