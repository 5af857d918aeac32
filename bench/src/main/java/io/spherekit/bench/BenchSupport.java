package io.spherekit.bench;

import io.spherekit.core.io.AtomicFiles;

import io.spherekit.core.Preprocessing;
import io.spherekit.trainer.head.ASoftmaxHead;
import io.spherekit.trainer.head.MarginHead;
import io.spherekit.trainer.head.SoftmaxHead;
import io.spherekit.trainer.model.SphereFaceNet;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;

/** Shared set-up for the benchmarks: networks, heads, random inputs, peak RSS. */
public final class BenchSupport {
    public static final int HEIGHT = 112;
    public static final int WIDTH = 96;
    public static final int EMBEDDING = 512;
    /** Identities of LFW View-1 DevTrain with >= 2 images (the trainer's default recipe). */
    public static final int LFW_CLASSES = 1184;

    private BenchSupport() {
    }

    public static MarginHead head(String name, long nIn, long classes) {
        return switch (name) {
            case "asoftmax" -> new ASoftmaxHead(nIn, classes, 4);
            case "softmax" -> new SoftmaxHead(nIn, classes);
            default -> throw new IllegalArgumentException("head must be asoftmax or softmax, got " + name);
        };
    }

    /** SphereFace-{depth}, full width, 512-d, A-Softmax m=4 head, Nesterov SGD (the trainer's optimiser). */
    public static ComputationGraph sphereFace(int depth, double width, int classes, long seed) {
        Nd4j.getRandom().setSeed(seed);
        ComputationGraph net = new ComputationGraph(SphereFaceNet.configuration(depth, width, EMBEDDING, HEIGHT, WIDTH,
                new ASoftmaxHead(EMBEDDING, classes, 4), new Nesterovs(0.01, 0.9), new Nesterovs(0.02, 0.9),
                5e-4, seed));
        net.init();
        return net;
    }

    /** The smallest graph around a head: input FF[d] -> head. Plain SGD, workspaces on (as in the trainer). */
    public static ComputationGraph headOnly(String head, int d, int classes, long seed) {
        Nd4j.getRandom().setSeed(seed);
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.FLOAT)
                .updater(new Sgd(0.01))
                .trainingWorkspaceMode(WorkspaceMode.ENABLED)
                .inferenceWorkspaceMode(WorkspaceMode.ENABLED)
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.feedForward(d))
                .addLayer("head", head(head, d, classes), "in")
                .setOutputs("head")
                .build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        return net;
    }

    /** Gaussian [n, d] features (std 3, like un-normalised embeddings). */
    public static float[] gaussian(int n, long seed, double std) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * std);
        }
        return v;
    }

    /** Uniform [-1, 1) image tensor data, NCHW, batch n. */
    public static float[] images(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n * 3 * HEIGHT * WIDTH];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextFloat() * 2f - 1f;
        }
        return v;
    }

    public static int[] labels(int n, int classes, long seed) {
        Random r = new Random(seed);
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(classes);
        }
        return y;
    }

    public static INDArray oneHot(int[] y, int classes) {
        float[] v = new float[y.length * classes];
        for (int i = 0; i < y.length; i++) {
            v[i * classes + y[i]] = 1f;
        }
        return Nd4j.create(v, new long[]{y.length, classes}, 'c');
    }

    public static Preprocessing lfwPreprocessing() {
        return Preprocessing.LFW_SPHEREFACE;
    }

    /** Peak resident set size of this process in bytes (VmHWM from /proc/self/status), or -1. */
    public static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    String[] f = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(f[0]) * 1024L;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /**
     * Serialises {@code value} as indented JSON and writes it to {@code target} atomically: a temporary file in the
     * target's folder, fsync, then an atomic rename, so a killed benchmark never leaves a half-written report that
     * {@code summarize.py} would read. (Replace with core's AtomicFiles once it exists.)
     *
     * @return the JSON text written
     * @throws IOException if the folder cannot be created, the write fails, or the filesystem cannot rename
     *                     atomically ({@link java.nio.file.AtomicMoveNotSupportedException}, no silent fallback)
     */
    public static String writeJson(Path target, Object value) throws IOException {
        String s = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(value);
        Files.createDirectories(target.toAbsolutePath().getParent());
        AtomicFiles.writeString(target, s + "\n");
        return s;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n == 0 ? Double.NaN : (n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]));
    }

    static double percentile(double[] v, double p) {
        double[] s = v.clone();
        Arrays.sort(s);
        if (s.length == 0) {
            return Double.NaN;
        }
        int idx = (int) Math.ceil(p / 100.0 * s.length) - 1;
        return s[Math.max(0, Math.min(s.length - 1, idx))];
    }
}
