package io.spherekit.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.spherekit.core.io.AtomicFiles;
import io.spherekit.trainer.head.ASoftmaxHead;
import io.spherekit.trainer.model.SphereFaceNet;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * DL4J training throughput of SphereFace (the trainer's network: libnd4j conv2d/conv2d_bp convs, ND4J PReLU, A-Softmax m = 4 head,
 * Nesterov SGD momentum 0.9), full width, 512-d, on a fixed random batch. Times {@code net.fit(DataSet)} per step
 * after {@code --warmup} steps and reports the median step time as images/s, plus peak RSS (VmHWM). Run one depth
 * per JVM so the peak RSS belongs to that network alone.
 *
 * <pre>Dl4jTrainThroughput --depth 20 [--batch 32] [--steps 7] [--warmup 2] [--classes 1184] [--width 1.0] [--json FILE]</pre>
 */
public final class Dl4jTrainThroughput {
    private Dl4jTrainThroughput() {
    }

    public static void main(String[] args) throws Exception {
        int depth = 4;
        int batch = 32;
        int steps = 7;
        int warmup = 2;
        int classes = BenchSupport.LFW_CLASSES;
        double width = 1.0;
        Path json = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--depth" -> depth = Integer.parseInt(args[++i]);
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--classes" -> classes = Integer.parseInt(args[++i]);
                case "--width" -> width = Double.parseDouble(args[++i]);
                case "--json" -> json = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        ComputationGraph net = BenchSupport.sphereFace(depth, width, classes, 99);
        Layer head = net.getLayer(SphereFaceNet.HEAD);
        if (head.paramTable().containsKey(ASoftmaxHead.LAMBDA)) {
            head.getParam(ASoftmaxHead.LAMBDA).assign(5.0); // a mid-schedule λ; it does not change the cost
        }
        INDArray x = Nd4j.create(BenchSupport.images(batch, 5), new long[]{batch, 3, BenchSupport.HEIGHT, BenchSupport.WIDTH}, 'c');
        INDArray y = BenchSupport.oneHot(BenchSupport.labels(batch, classes, 6), classes);
        DataSet ds = new DataSet(x, y);
        for (int i = 0; i < warmup; i++) {
            net.fit(ds);
        }
        double[] sec = new double[steps];
        for (int i = 0; i < steps; i++) {
            long t0 = System.nanoTime();
            net.fit(ds);
            sec[i] = (System.nanoTime() - t0) / 1e9;
        }
        double med = BenchSupport.median(sec);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("engine", "dl4j");
        r.put("task", "train");
        r.put("depth", depth);
        r.put("width", width);
        r.put("batch", batch);
        r.put("classes", classes);
        r.put("head", "asoftmax-m4");
        r.put("optimizer", "nesterov-sgd-0.9");
        r.put("warmup_steps", warmup);
        r.put("steps", steps);
        r.put("step_seconds", sec);
        r.put("median_step_seconds", med);
        r.put("images_per_second", batch / med);
        r.put("peak_rss_bytes", BenchSupport.peakRssBytes());
        r.put("loss_last", net.score());
        r.put("parameters", net.numParams());
        String s = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(r);
        System.out.println(s);
        if (json != null) {
            BenchSupport.writeJson(json, r);
        }
        System.exit(0); // ND4J leaves non-daemon threads behind
    }
}
