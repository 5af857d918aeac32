package io.spherekit.bench;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions.ExecutionMode;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.LargeStack;
import io.spherekit.runtime.Provider;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * ONNX Runtime Java serving levers on one model, one row per lever, every row in this process one after the other
 * (issue #16; {@code bench/serve-levers.sh} runs it three times, interleaved with Keras/TF predict, and takes
 * medians). A row opens its own session, runs {@code --warmup} calls and then {@code --iters} timed calls per batch
 * size (median images/s, nearest-rank p50/p99 per call), records the session-creation time, compares its batch-32
 * output with the first row's (max |diff|: a lever must not change the embeddings) and closes the session.
 *
 * <p>Rows ({@code --rows}, default all, in this order; {@code --rotate K} starts at row K mod n so that repeats do
 * not always run a row at the same position):
 * <ul>
 *   <li>{@code sdk-default}: {@link FaceEmbedder#embedTensor} with the SDK's defaults (what a user gets);</li>
 *   <li>{@code base}: a raw session as the SDK opens it (ORT's defaults: opt ALL, intra-op threads = ORT's choice,
 *       sequential, spinning on), input {@code OnnxTensor.createTensor(env, FloatBuffer.wrap(float[]), shape)} (a
 *       heap buffer, which ORT-Java copies into native memory), output copied out with {@code getFloatBuffer()};</li>
 *   <li>{@code opt-none|opt-basic|opt-extended|opt-layout}: base at another graph optimisation level;</li>
 *   <li>{@code saved-all}: the model ORT wrote with {@code setOptimizedModelFilePath} at level ALL (written during
 *       this row's set-up, outside the timing), loaded with optimisation off;</li>
 *   <li>{@code threads-1|threads-2}: intra-op threads; {@code spin-off}: config entry
 *       {@code session.intra_op.allow_spinning=0}; {@code parallel}: execution mode PARALLEL, 2 inter-op threads;</li>
 *   <li>{@code in-array4d}: input built from a {@code float[n][3][H][W]} ({@code createTensor(env, Object)});
 *       {@code in-direct}: a new tensor per call over one reused direct native-order {@code FloatBuffer} (no copy);
 *       {@code in-direct-reuse}: one input tensor created once over that buffer, refilled per call;</li>
 *   <li>{@code out-pinned}: {@code in-direct-reuse} plus a pinned output ({@code session.run(inputs, pinnedOutputs)}
 *       into a preallocated direct tensor, ORT-Java &ge; 1.16);</li>
 *   <li>{@code tuned}: out-pinned with 2 intra-op threads and spinning off.</li>
 * </ul>
 * The input is copied into the tensor's memory on every call in every row (as a server would with fresh images).
 *
 * <pre>OrtServeLevers --model sf20.onnx [--rows a,b] [--batches 32,1] [--warmup 3] [--iters 10] [--iters1 100]
 *                [--rotate 0] [--work DIR] [--json FILE]
 * OrtServeLevers --graph sf20.onnx --work DIR --json graph.json</pre>
 * {@code --graph}: node counts by op type of the exported model and of the models ORT saves at BASIC, EXTENDED,
 * LAYOUT and ALL; graph inputs that are also initializers; Conv nodes with a bias input; fused-activation attributes.
 */
public final class OrtServeLevers {
    static final List<String> ROWS = List.of("sdk-default", "base", "opt-none", "opt-basic", "opt-extended",
            "opt-layout", "saved-all", "threads-1", "threads-2", "spin-off", "parallel", "in-array4d", "in-direct",
            "in-direct-reuse", "out-pinned", "tuned");

    private OrtServeLevers() {
    }

    /** One row's settings. */
    record Lever(String name, OptLevel opt, int threads, boolean spinOff, boolean parallel, String input,
                 boolean pinned, boolean saved, boolean sdk) {
        static Lever of(String name) {
            Lever b = new Lever(name, OptLevel.ALL_OPT, 0, false, false, "heap", false, false, false);
            return switch (name) {
                case "sdk-default" -> b.with(l -> new Lever(name, l.opt, 0, false, false, "heap", false, false, true));
                case "base" -> b;
                case "opt-none" -> b.withOpt(OptLevel.NO_OPT);
                case "opt-basic" -> b.withOpt(OptLevel.BASIC_OPT);
                case "opt-extended" -> b.withOpt(OptLevel.EXTENDED_OPT);
                case "opt-layout" -> b.withOpt(OptLevel.LAYOUT_OPT);
                case "saved-all" -> new Lever(name, OptLevel.NO_OPT, 0, false, false, "heap", false, true, false);
                case "threads-1" -> new Lever(name, OptLevel.ALL_OPT, 1, false, false, "heap", false, false, false);
                case "threads-2" -> new Lever(name, OptLevel.ALL_OPT, 2, false, false, "heap", false, false, false);
                case "spin-off" -> new Lever(name, OptLevel.ALL_OPT, 0, true, false, "heap", false, false, false);
                case "parallel" -> new Lever(name, OptLevel.ALL_OPT, 0, false, true, "heap", false, false, false);
                case "in-array4d" -> new Lever(name, OptLevel.ALL_OPT, 0, false, false, "array4d", false, false, false);
                case "in-direct" -> new Lever(name, OptLevel.ALL_OPT, 0, false, false, "direct", false, false, false);
                case "in-direct-reuse" -> new Lever(name, OptLevel.ALL_OPT, 0, false, false, "direct-reuse", false,
                        false, false);
                case "out-pinned" -> new Lever(name, OptLevel.ALL_OPT, 0, false, false, "direct-reuse", true, false,
                        false);
                case "tuned" -> new Lever(name, OptLevel.ALL_OPT, 2, true, false, "direct-reuse", true, false, false);
                default -> throw new IllegalArgumentException("unknown row '" + name + "'; rows: " + ROWS);
            };
        }

        Lever withOpt(OptLevel o) {
            return new Lever(name, o, threads, spinOff, parallel, input, pinned, saved, sdk);
        }

        Lever with(java.util.function.UnaryOperator<Lever> f) {
            return f.apply(this);
        }

        Map<String, Object> describe() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("path", sdk ? "FaceEmbedder.embedTensor (SDK defaults)" : "raw OrtSession");
            m.put("graph_optimization", saved ? "saved at ALL, loaded with NO_OPT" : opt.name());
            m.put("intra_op_threads", threads == 0 ? "default" : threads);
            m.put("allow_spinning", !spinOff);
            m.put("execution_mode", parallel ? "PARALLEL (2 inter-op threads)" : "SEQUENTIAL");
            m.put("input", input);
            m.put("output", pinned ? "pinned" : "copied (getFloatBuffer)");
            return m;
        }
    }

    public static void main(String[] args) throws Exception {
        Path model = null;
        Path graph = null;
        List<String> rows = ROWS;
        List<Integer> batches = List.of(32, 1);
        int warmup = 3;
        int iters = 10;
        int iters1 = 100;
        int rotate = 0;
        Path work = Path.of("bench/target/serve-levers");
        Path json = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> model = Path.of(args[++i]);
                case "--graph" -> graph = Path.of(args[++i]);
                case "--rows" -> rows = List.of(args[++i].split(","));
                case "--batches" -> {
                    List<Integer> b = new ArrayList<>();
                    for (String s : args[++i].split(",")) {
                        b.add(Integer.parseInt(s.trim()));
                    }
                    batches = b;
                }
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--iters" -> iters = Integer.parseInt(args[++i]);
                case "--iters1" -> iters1 = Integer.parseInt(args[++i]);
                case "--rotate" -> rotate = Integer.parseInt(args[++i]);
                case "--work" -> work = Path.of(args[++i]);
                case "--json" -> json = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Files.createDirectories(work);
        Map<String, Object> r;
        if (graph != null) {
            r = graphReport(graph, work);
        } else {
            if (model == null || !Files.isRegularFile(model)) {
                throw new IllegalArgumentException("--model FILE is required (got " + model + ")");
            }
            r = runRows(model, rows, batches, warmup, iters, iters1, rotate, work);
        }
        if (json != null) {
            BenchSupport.writeJson(json, r);
        }
    }

    static Map<String, Object> runRows(Path model, List<String> names, List<Integer> batches, int warmup, int iters,
                                       int iters1, int rotate, Path work) throws Exception {
        OrtEnvironment env = LargeStack.environment();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("engine", "ort-java");
        r.put("onnxruntime", env.getVersion());
        r.put("model", model.toString());
        r.put("warmup", warmup);
        r.put("iters", iters);
        r.put("iters1", iters1);
        List<String> order = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            order.add(names.get(Math.floorMod(i + rotate, names.size())));
        }
        r.put("order", order);
        Map<Integer, float[]> inputs = new TreeMap<>();
        for (int b : batches) {
            inputs.put(b, BenchSupport.images(b, 11 + b));
        }
        Map<Integer, float[]> reference = new TreeMap<>();
        List<Map<String, Object>> out = new ArrayList<>();
        for (String name : order) {
            Lever lever = Lever.of(name);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("row", name);
            row.put("settings", lever.describe());
            try (Runner runner = open(env, model, lever, work)) {
                row.put("session_create_ms", runner.createMs);
                List<Map<String, Object>> res = new ArrayList<>();
                for (int b : batches) {
                    float[] x = inputs.get(b);
                    float[] first = null;
                    for (int i = 0; i < warmup; i++) {
                        float[] y = runner.run(x, b);
                        if (first == null) {
                            first = y.clone();
                        }
                    }
                    int n = b == 1 ? iters1 : iters;
                    double[] sec = new double[n];
                    for (int i = 0; i < n; i++) {
                        long t0 = System.nanoTime();
                        runner.run(x, b);
                        sec[i] = (System.nanoTime() - t0) / 1e9;
                    }
                    if (first == null) {
                        first = runner.run(x, b).clone();
                    }
                    float[] ref = reference.putIfAbsent(b, first);
                    double diff = 0;
                    if (ref != null) {
                        for (int i = 0; i < ref.length; i++) {
                            diff = Math.max(diff, Math.abs(ref[i] - first[i]));
                        }
                    }
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("batch", b);
                    m.put("iters", n);
                    m.put("images_per_second", b / BenchSupport.median(sec));
                    m.put("p50_ms", BenchSupport.percentile(sec, 50) * 1e3);
                    m.put("p99_ms", BenchSupport.percentile(sec, 99) * 1e3);
                    m.put("max_abs_diff_vs_first_row", diff);
                    res.add(m);
                    System.err.printf(Locale.ROOT, "[serve-levers] %-16s batch %2d: %7.2f img/s, p50 %7.2f ms, "
                                    + "p99 %7.2f ms, diff %.2e, create %.0f ms%n", name, b, m.get("images_per_second"),
                            m.get("p50_ms"), m.get("p99_ms"), diff, runner.createMs);
                }
                row.put("results", res);
            }
            out.add(row);
        }
        r.put("rows", out);
        r.put("peak_rss_bytes", BenchSupport.peakRssBytes());
        return r;
    }

    /** A session and the way a row feeds it. */
    abstract static class Runner implements AutoCloseable {
        double createMs;

        /** Runs a batch of {@code n} images and returns the output, flattened {@code [n·D]} (owned by the runner). */
        abstract float[] run(float[] nchw, int n) throws Exception;
    }

    static OrtSession.SessionOptions options(Lever l) throws OrtException {
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setOptimizationLevel(l.opt);
        if (l.threads > 0) {
            o.setIntraOpNumThreads(l.threads);
        }
        if (l.spinOff) {
            o.addConfigEntry("session.intra_op.allow_spinning", "0");
        }
        if (l.parallel) {
            o.setExecutionMode(ExecutionMode.PARALLEL);
            o.setInterOpNumThreads(2);
        } else {
            o.setExecutionMode(ExecutionMode.SEQUENTIAL);
        }
        return o;
    }

    static Runner open(OrtEnvironment env, Path model, Lever l, Path work) throws Exception {
        if (l.sdk) {
            long t0 = System.nanoTime();
            FaceEmbedder e = FaceEmbedder.builder().setModelPath(model).optProvider(Provider.CPU).build();
            double ms = (System.nanoTime() - t0) / 1e6;
            Runner r = new Runner() {
                @Override
                float[] run(float[] nchw, int n) throws Exception {
                    float[][] y = e.embedTensor(nchw, n);
                    float[] flat = new float[n * y[0].length];
                    for (int i = 0; i < n; i++) {
                        System.arraycopy(y[i], 0, flat, i * y[i].length, y[i].length);
                    }
                    return flat;
                }

                @Override
                public void close() {
                    e.close();
                }
            };
            r.createMs = ms;
            return r;
        }
        Path file = model;
        if (l.saved) {
            file = work.resolve(stem(model) + "-ort-all.onnx");
            saveOptimized(env, model, OptLevel.ALL_OPT, file);
        }
        OrtSession.SessionOptions opts = options(l);
        Path f = file;
        long t0 = System.nanoTime();
        OrtSession s = LargeStack.call("serve-levers-session", () -> env.createSession(f.toString(), opts));
        double ms = (System.nanoTime() - t0) / 1e6;
        opts.close();
        Runner r = new RawRunner(env, s, l);
        r.createMs = ms;
        return r;
    }

    /** Writes the model ORT optimises at {@code level} to {@code out} (creating, then closing, a session). */
    static void saveOptimized(OrtEnvironment env, Path model, OptLevel level, Path out) throws Exception {
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(level);
            o.setOptimizedModelFilePath(out.toString());
            LargeStack.call("serve-levers-save", () -> {
                env.createSession(model.toString(), o).close();
                return null;
            });
        }
    }

    static String stem(Path p) {
        String s = p.getFileName().toString();
        return s.endsWith(".onnx") ? s.substring(0, s.length() - 5) : s;
    }

    /** The raw-session rows: input and output handling per {@link Lever#input} / {@link Lever#pinned}. */
    static final class RawRunner extends Runner {
        private final OrtEnvironment env;
        private final OrtSession session;
        private final Lever lever;
        private final String inName;
        private final String outName;
        private final Map<Integer, FloatBuffer> inBuf = new TreeMap<>();
        private final Map<Integer, OnnxTensor> inTensor = new TreeMap<>();
        private final Map<Integer, FloatBuffer> outBuf = new TreeMap<>();
        private final Map<Integer, OnnxTensor> outTensor = new TreeMap<>();
        private final Map<Integer, float[]> result = new TreeMap<>();
        private static final int D = BenchSupport.EMBEDDING;

        RawRunner(OrtEnvironment env, OrtSession session, Lever lever) throws OrtException {
            this.env = env;
            this.session = session;
            this.lever = lever;
            this.inName = session.getInputNames().iterator().next();
            this.outName = session.getOutputNames().iterator().next();
        }

        private static FloatBuffer direct(int floats) {
            return ByteBuffer.allocateDirect(floats * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        }

        @Override
        float[] run(float[] x, int n) throws Exception {
            long[] shape = {n, 3, BenchSupport.HEIGHT, BenchSupport.WIDTH};
            float[] y = result.computeIfAbsent(n, k -> new float[k * D]);
            OnnxTensor in;
            boolean closeIn = true;
            switch (lever.input) {
                case "heap" -> in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
                case "array4d" -> in = OnnxTensor.createTensor(env, to4d(x, n));
                case "direct" -> {
                    FloatBuffer b = inBuf.computeIfAbsent(n, k -> direct(x.length));
                    b.clear();
                    b.put(x);
                    b.flip();
                    in = OnnxTensor.createTensor(env, b, shape);
                }
                case "direct-reuse" -> {
                    FloatBuffer b = inBuf.computeIfAbsent(n, k -> direct(x.length));
                    in = inTensor.get(n);
                    if (in == null) {
                        in = OnnxTensor.createTensor(env, b, shape);
                        inTensor.put(n, in);
                    }
                    b.clear();
                    b.put(x);
                    closeIn = false;
                }
                default -> throw new IllegalStateException(lever.input);
            }
            try {
                if (lever.pinned) {
                    OnnxTensor o = outTensor.get(n);
                    if (o == null) {
                        FloatBuffer ob = direct(n * D);
                        outBuf.put(n, ob);
                        o = OnnxTensor.createTensor(env, ob, new long[] {n, D});
                        outTensor.put(n, o);
                    }
                    try (OrtSession.Result res = session.run(Map.of(inName, in), Map.of(outName, o))) {
                        FloatBuffer ob = outBuf.get(n);
                        ob.clear();
                        ob.get(y);
                    }
                } else {
                    try (OrtSession.Result res = session.run(Map.of(inName, in))) {
                        OnnxValue v = res.get(0);
                        ((OnnxTensor) v).getFloatBuffer().get(y);
                    }
                }
            } finally {
                if (closeIn) {
                    in.close();
                }
            }
            return y;
        }

        private static float[][][][] to4d(float[] x, int n) {
            int h = BenchSupport.HEIGHT;
            int w = BenchSupport.WIDTH;
            float[][][][] a = new float[n][3][h][w];
            int k = 0;
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < 3; c++) {
                    for (int yy = 0; yy < h; yy++) {
                        System.arraycopy(x, k, a[i][c][yy], 0, w);
                        k += w;
                    }
                }
            }
            return a;
        }

        @Override
        public void close() throws OrtException {
            for (OnnxTensor t : inTensor.values()) {
                t.close();
            }
            for (OnnxTensor t : outTensor.values()) {
                t.close();
            }
            session.close();
        }
    }

    /** Node counts of the exported model and of ORT's optimised versions of it. */
    static Map<String, Object> graphReport(Path model, Path work) throws Exception {
        OrtEnvironment env = LargeStack.environment();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("onnxruntime", env.getVersion());
        r.put("model", model.toString());
        r.put("exported", describe(model));
        Map<String, OptLevel> levels = new LinkedHashMap<>();
        levels.put("BASIC", OptLevel.BASIC_OPT);
        levels.put("EXTENDED", OptLevel.EXTENDED_OPT);
        levels.put("LAYOUT", OptLevel.LAYOUT_OPT);
        levels.put("ALL", OptLevel.ALL_OPT);
        for (Map.Entry<String, OptLevel> e : levels.entrySet()) {
            Path out = work.resolve(stem(model) + "-ort-" + e.getKey().toLowerCase(Locale.ROOT) + ".onnx");
            saveOptimized(env, model, e.getValue(), out);
            r.put("ort_" + e.getKey(), describe(out));
            System.err.printf(Locale.ROOT, "[serve-levers graph] %-8s %s%n", e.getKey(),
                    ((Map<?, ?>) r.get("ort_" + e.getKey())).get("op_types"));
        }
        System.err.printf(Locale.ROOT, "[serve-levers graph] exported %s%n", ((Map<?, ?>) r.get("exported")));
        return r;
    }

    static Map<String, Object> describe(Path p) throws Exception {
        OnnxMl.ModelProto m = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(p));
        OnnxMl.GraphProto g = m.getGraph();
        Set<String> inits = new HashSet<>();
        for (OnnxMl.TensorProto t : g.getInitializerList()) {
            inits.add(t.getName());
        }
        List<String> inputsThatAreInitializers = new ArrayList<>();
        for (OnnxMl.ValueInfoProto v : g.getInputList()) {
            if (inits.contains(v.getName())) {
                inputsThatAreInitializers.add(v.getName());
            }
        }
        Map<String, Integer> ops = new TreeMap<>();
        Map<String, Integer> activations = new TreeMap<>();
        int convWithBias = 0;
        int conv = 0;
        for (OnnxMl.NodeProto n : g.getNodeList()) {
            String op = (n.getDomain().isEmpty() ? "" : n.getDomain() + ":") + n.getOpType();
            ops.merge(op, 1, Integer::sum);
            if (n.getOpType().equals("Conv") || n.getOpType().equals("FusedConv")) {
                conv++;
                if (n.getInputCount() >= 3 && !n.getInput(2).isEmpty()) {
                    convWithBias++;
                }
                for (OnnxMl.AttributeProto a : n.getAttributeList()) {
                    if (a.getName().equals("activation")) {
                        activations.merge(a.getS().toStringUtf8(), 1, Integer::sum);
                    }
                }
                // com.microsoft.nchwc Conv: an Add fused into the conv is its 4th input, "Sum"
                if (n.getDomain().equals("com.microsoft.nchwc") && n.getInputCount() >= 4
                        && !n.getInput(3).isEmpty()) {
                    activations.merge("Sum (a fused Add)", 1, Integer::sum);
                }
            }
        }
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("file", p.toString());
        d.put("bytes", Files.size(p));
        d.put("nodes", g.getNodeCount());
        d.put("initializers", g.getInitializerCount());
        d.put("graph_inputs", g.getInputCount());
        d.put("graph_inputs_that_are_initializers", inputsThatAreInitializers.size());
        d.put("conv_nodes", conv);
        d.put("conv_nodes_with_bias", convWithBias);
        d.put("conv_fused", activations);
        d.put("op_types", ops);
        d.put("ir_version", m.getIrVersion());
        List<String> opsets = new ArrayList<>();
        for (OnnxMl.OperatorSetIdProto o : m.getOpsetImportList()) {
            opsets.add((o.getDomain().isEmpty() ? "ai.onnx" : o.getDomain()) + ":" + o.getVersion());
        }
        d.put("opsets", opsets);
        return d;
    }
}
