package io.spherekit.bench;

import io.spherekit.core.ModelMetadata;
import io.spherekit.core.ModelMetadata.Key;
import io.spherekit.core.Preprocessing;
import io.spherekit.exporter.ExportCli;
import io.spherekit.trainer.ModelIO;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes random-weight benchmark models: for each depth, {@code sf{depth}.zip} (DL4J, {@link ModelIO#save}, A-Softmax
 * head over 1184 classes) and its ONNX export {@code sf{depth}.onnx} through {@code export-model} (ExportCli,
 * in-process), {@code sf{depth}-prelu.onnx} ({@code --prelu prelu}: one PRelu node per PReLU instead of the default
 * depthwise form), plus {@code sf{depth}-fp16.onnx} ({@code --fp16-weights}) when asked.
 *
 * <pre>MakeModels --out DIR [--depth 4,20] [--width 1.0] [--fp16] [--force]</pre>
 * Existing files are kept unless {@code --force}.
 */
public final class MakeModels {
    private MakeModels() {
    }

    public static void main(String[] args) throws Exception {
        Path out = null;
        List<Integer> depths = List.of(4, 20);
        double width = 1.0;
        boolean fp16 = false;
        boolean force = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]);
                case "--depth" -> {
                    List<Integer> d = new ArrayList<>();
                    for (String s : args[++i].split(",")) {
                        d.add(Integer.parseInt(s.trim()));
                    }
                    depths = d;
                }
                case "--width" -> width = Double.parseDouble(args[++i]);
                case "--fp16" -> fp16 = true;
                case "--force" -> force = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (out == null) {
            throw new IllegalArgumentException("--out DIR is required");
        }
        Files.createDirectories(out);
        for (int depth : depths) {
            Path zip = out.resolve("sf" + depth + ".zip");
            if (force || !Files.isRegularFile(zip)) {
                ComputationGraph net = BenchSupport.sphereFace(depth, width, BenchSupport.LFW_CLASSES, 1234 + depth);
                ModelMetadata meta = ModelMetadata.builder()
                        .preprocessing(Preprocessing.LFW_SPHEREFACE)
                        .put(Key.NETWORK, "sphereface-" + depth)
                        .put(Key.WIDTH_MULTIPLIER, width)
                        .put(Key.EMBEDDING_DIM, BenchSupport.EMBEDDING)
                        .put(Key.HEAD, "asoftmax")
                        .put(Key.HEAD_M, "4")
                        .put(Key.TRAINING_DATA, "none (random weights, benchmark model)")
                        .build();
                ModelIO.save(net, meta.toMap(), zip, false);
                System.out.printf("saved %s (%,d parameters)%n", zip, net.numParams());
                net.close();
            }
            export(zip, out.resolve("sf" + depth + ".onnx"), false, false, force);
            export(zip, out.resolve("sf" + depth + "-prelu.onnx"), false, true, force);
            if (fp16) {
                export(zip, out.resolve("sf" + depth + "-fp16.onnx"), true, false, force);
            }
        }
    }

    private static void export(Path zip, Path onnx, boolean fp16, boolean preluNode, boolean force) {
        if (!force && Files.isRegularFile(onnx)) {
            System.out.println("kept " + onnx);
            return;
        }
        List<String> a = new ArrayList<>(List.of("--model", zip.toString(), "--output", onnx.toString()));
        if (fp16) {
            a.add("--fp16-weights");
        }
        if (preluNode) {
            a.addAll(List.of("--prelu", "prelu"));
        }
        int rc = ExportCli.run(System.out, System.err, a.toArray(new String[0]));
        if (rc != 0) {
            throw new IllegalStateException("export-model failed (exit " + rc + ") for " + zip);
        }
    }
}
