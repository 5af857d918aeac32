package io.spherekit.trainer;

import java.util.Collections;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spherekit.core.io.AtomicFiles;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Training checkpoints: {@code <run>/checkpoints/ckpt-<iteration>.zip}, each a complete {@link ModelIO} model file
 * (parameters, updater state, iteration and epoch counters in the configuration) plus a {@code trainstate} entry:
 * position in the epoch, the epoch's shuffled order, the serialised {@link Random}, the loss EMA and the config
 * fingerprint. Each file is written atomically ({@link AtomicFiles}), so a kill at any moment leaves every existing checkpoint intact;
 * the two newest are kept.
 */
final class Checkpoints {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String STATE_KEY = "trainstate";
    private static final int KEEP = 2;

    private Checkpoints() {
    }

    /** Where training stands, restored on resume. */
    record State(int epoch, int batchInEpoch, int[] order, String rng, double ema, String fingerprint) {
    }

    static Path dir(Path runDir) {
        return runDir.resolve("checkpoints");
    }

    static void save(ComputationGraph net, Map<String, String> meta, State st, Path runDir) throws IOException {
        Path d = Files.createDirectories(dir(runDir));
        Path file = d.resolve(String.format("ckpt-%08d.zip", net.getConfiguration().getIterationCount()));
        AtomicFiles.writeFile(file, tmp -> {
            ModelIO.writeTo(tmp, net, meta, true);
            ModelSerializer.addObjectToFile(tmp.toFile(), STATE_KEY, JSON.writeValueAsString(st));
        });
        List<Path> all = list(runDir);
        for (int i = KEEP; i < all.size(); i++) {
            Files.deleteIfExists(all.get(i));
        }
    }

    /** Checkpoints, newest first. */
    static List<Path> list(Path runDir) throws IOException {
        Path d = dir(runDir);
        if (!Files.isDirectory(d)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(d)) {
            List<Path> out = new ArrayList<>(s.filter(p -> p.getFileName().toString().matches("ckpt-\\d{8}\\.zip")).sorted().toList());
            Collections.reverse(out);
            return out;
        }
    }

    /** A loaded checkpoint. */
    record Loaded(Path file, ModelIO.TrainedModel model, State state) {
    }

    /** The newest checkpoint that loads; a broken one is reported and skipped. */
    static Loaded latest(Path runDir, PrintStream log) throws IOException {
        for (Path p : list(runDir)) {
            try {
                ModelIO.TrainedModel m = ModelIO.load(p, true);
                String json = ModelSerializer.getObjectFromFile(p.toFile(), STATE_KEY);
                return new Loaded(p, m, JSON.readValue(json, State.class));
            } catch (IOException | RuntimeException e) {
                log.println("checkpoint " + p + " is unreadable (" + e.getMessage() + "); trying an older one");
            }
        }
        throw new IOException("--resume: no usable checkpoint in " + dir(runDir));
    }

    static String saveRng(Random r) {
        try (ByteArrayOutputStream b = new ByteArrayOutputStream(); ObjectOutputStream o = new ObjectOutputStream(b)) {
            o.writeObject(r);
            o.flush();
            return Base64.getEncoder().encodeToString(b.toByteArray());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Random loadRng(String s) throws IOException {
        try (ObjectInputStream o = new ObjectInputStream(new ByteArrayInputStream(Base64.getDecoder().decode(s)))) {
            return (Random) o.readObject();
        } catch (ClassNotFoundException e) {
            throw new IOException("corrupt RNG state in checkpoint", e);
        }
    }
}
