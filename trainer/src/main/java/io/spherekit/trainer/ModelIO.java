package io.spherekit.trainer;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spherekit.core.ModelMetadata;
import io.spherekit.core.io.AtomicFiles;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads and writes SphereKit model files: a DL4J {@code ModelSerializer} zip of the {@link ComputationGraph}
 * (configuration, parameters and, optionally, updater state) plus a {@code spherekit} entry holding the training
 * metadata as a JSON string map (preprocessing, head and its m/s/λ, data, iterations). The exporter copies the
 * {@code spherekit.*} keys into the ONNX {@code metadata_props}.
 *
 * <p>Writes are atomic ({@link AtomicFiles}): the file is written next to the target and then moved into place.
 */
public final class ModelIO {
    private static final String META_KEY = "spherekit";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelIO() {
    }

    /** A loaded model: the graph (head included) and its metadata. */
    public record TrainedModel(ComputationGraph graph, Map<String, String> metadata) {
    }

    /**
     * Saves atomically ({@link AtomicFiles}), creating the target's folder if needed.
     *
     * @param metadata    {@code spherekit.*} entries, validated by {@link ModelMetadata#parse} (other keys are
     *                    not stored)
     * @param saveUpdater keep the updater state (needed to resume training; larger file)
     * @throws IllegalArgumentException naming the key when a metadata value is invalid
     * @throws IOException naming the target when writing fails (or the file system cannot rename atomically); the
     *                     target is then untouched
     */
    public static void save(ComputationGraph net, Map<String, String> metadata, Path target, boolean saveUpdater)
            throws IOException {
        Map<String, String> valid = ModelMetadata.parse(metadata).toMap();
        Files.createDirectories(target.toAbsolutePath().getParent());
        AtomicFiles.writeFile(target, tmp -> writeTo(tmp, net, valid, saveUpdater));
    }

    /** Writes the model file's content into {@code file} (not atomic: the callers' temporary file). */
    static void writeTo(Path file, ComputationGraph net, Map<String, String> metadata, boolean saveUpdater)
            throws IOException {
        ModelSerializer.writeModel(net, file.toFile(), saveUpdater);
        ModelSerializer.addObjectToFile(file.toFile(), META_KEY, JSON.writeValueAsString(new TreeMap<>(metadata)));
    }

    /**
     * Loads a model written by {@link #save}.
     *
     * @throws IOException with the path and the problem: missing, empty, not a zip, not a DL4J ComputationGraph, or
     *                     metadata that {@link ModelMetadata#parse} refuses
     */
    public static TrainedModel load(Path file, boolean loadUpdater) throws IOException {
        if (!Files.exists(file)) {
            throw new IOException("model file not found: " + file);
        }
        if (!Files.isRegularFile(file)) {
            throw new IOException("model path is not a regular file: " + file);
        }
        if (Files.size(file) == 0) {
            throw new IOException("model file is empty: " + file);
        }
        try (ZipFile zip = new ZipFile(file.toFile())) {
            if (zip.getEntry("configuration.json") == null || zip.getEntry("coefficients.bin") == null) {
                throw new IOException("not a DL4J model (zip without configuration.json/coefficients.bin): " + file);
            }
        } catch (ZipException e) {
            throw new IOException("not a SphereKit/DL4J model file (not a zip archive): " + file, e);
        }
        ComputationGraph graph;
        try {
            graph = ModelSerializer.restoreComputationGraph(file.toFile(), loadUpdater);
        } catch (RuntimeException e) {
            throw new IOException("cannot load a DL4J ComputationGraph from " + file + ": " + e.getMessage(), e);
        }
        Map<String, String> meta = new TreeMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            if (zip.getEntry("objects/" + META_KEY) != null) {
                String json = ModelSerializer.getObjectFromFile(file.toFile(), META_KEY);
                meta.putAll(ModelMetadata.parse(JSON.readValue(json, new TypeReference<Map<String, String>>() { }))
                        .toMap());
            }
        } catch (RuntimeException e) {
            throw new IOException("corrupt spherekit metadata in " + file + ": " + e.getMessage(), e);
        }
        return new TrainedModel(graph, meta);
    }
}
