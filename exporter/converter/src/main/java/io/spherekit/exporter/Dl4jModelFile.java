package io.spherekit.exporter;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spherekit.core.ModelMetadata;
import io.spherekit.trainer.ModelIO;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A DL4J model zip as {@code ModelSerializer} writes it: a {@link ComputationGraph} (SphereKit's own model files
 * included) or a {@link MultiLayerNetwork}, told apart by its {@code configuration.json} (a graph has
 * {@code vertices}, a network {@code confs}), with the {@code spherekit.*} metadata it carries (none for a zip written
 * by plain DL4J).
 */
final class Dl4jModelFile {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** {@code ModelIO}'s object entry name. */
    private static final String META_KEY = "spherekit";

    /** A loaded network ({@link ComputationGraph} or {@link MultiLayerNetwork}) and its metadata. */
    record Loaded(Object network, Map<String, String> metadata) {
        boolean graph() {
            return network instanceof ComputationGraph;
        }
    }

    private Dl4jModelFile() {
    }

    /**
     * @throws IOException naming the file and the problem: missing, empty, not a zip, not a DL4J model, a
     *                     configuration that is neither kind, or metadata {@link ModelMetadata#parse} refuses
     */
    static Loaded load(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("model file not found: " + file);
        }
        if (Files.size(file) == 0) {
            throw new IOException("model file is empty: " + file);
        }
        JsonNode conf;
        boolean hasMeta;
        try (ZipFile zip = new ZipFile(file.toFile())) {
            ZipEntry c = zip.getEntry("configuration.json");
            if (c == null || zip.getEntry("coefficients.bin") == null) {
                throw new IOException("not a DL4J model (zip without configuration.json/coefficients.bin): " + file);
            }
            try (InputStream in = zip.getInputStream(c)) {
                conf = JSON.readTree(in);
            }
            hasMeta = zip.getEntry("objects/" + META_KEY) != null;
        } catch (ZipException e) {
            throw new IOException("not a DL4J model file (not a zip archive): " + file, e);
        }
        if (conf.has("vertices")) {
            ModelIO.TrainedModel m = ModelIO.load(file, false);
            return new Loaded(m.graph(), m.metadata());
        }
        if (!conf.has("confs")) {
            throw new IOException("configuration.json of " + file + " is neither a ComputationGraph (vertices) nor a "
                    + "MultiLayerNetwork (confs)");
        }
        MultiLayerNetwork net;
        try {
            net = ModelSerializer.restoreMultiLayerNetwork(file.toFile(), false);
        } catch (RuntimeException e) {
            throw new IOException("cannot load a DL4J MultiLayerNetwork from " + file + ": " + e.getMessage(), e);
        }
        Map<String, String> meta = new TreeMap<>();
        if (hasMeta) {
            try {
                String json = ModelSerializer.getObjectFromFile(file.toFile(), META_KEY);
                meta.putAll(ModelMetadata.parse(JSON.readValue(json, new TypeReference<Map<String, String>>() { })).toMap());
            } catch (RuntimeException e) {
                throw new IOException("corrupt spherekit metadata in " + file + ": " + e.getMessage(), e);
            }
        }
        return new Loaded(net, meta);
    }

    /**
     * Parses an input-type spec: {@code image:H,W,C[,nhwc]}, {@code vector:N} or {@code sequence:F,T[,nwc]} (sizes
     * positive integers; NCHW and NCW unless the layout is given).
     *
     * @throws IllegalArgumentException naming the spec and what is wrong
     */
    static InputType parseInputType(String spec) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        int colon = s.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("'" + spec + "': expected image:H,W,C[,nhwc], vector:N or sequence:F,T[,nwc]");
        }
        String kind = s.substring(0, colon);
        String[] parts = s.substring(colon + 1).split(",");
        String layout = null;
        int n = parts.length;
        if (n > 0 && !parts[n - 1].strip().matches("\\d+")) {
            layout = parts[n - 1].strip();
            n--;
        }
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
            try {
                v[i] = Long.parseLong(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + spec + "': '" + parts[i] + "' is not a size");
            }
            if (v[i] < 1) {
                throw new IllegalArgumentException("'" + spec + "': sizes must be >= 1, got " + v[i]);
            }
        }
        switch (kind) {
            case "image":
                need(spec, v, 3, layout, "nchw", "nhwc");
                return InputType.convolutional(v[0], v[1], v[2], "nhwc".equals(layout) ? CNN2DFormat.NHWC : CNN2DFormat.NCHW);
            case "vector":
                need(spec, v, 1, layout);
                return InputType.feedForward(v[0]);
            case "sequence":
                need(spec, v, 2, layout, "ncw", "nwc");
                return InputType.recurrent(v[0], v[1], "nwc".equals(layout) ? RNNFormat.NWC : RNNFormat.NCW);
            default:
                throw new IllegalArgumentException("'" + spec + "': unknown kind '" + kind + "' (image, vector or sequence)");
        }
    }

    private static void need(String spec, long[] v, int count, String layout, String... layouts) {
        if (v.length != count) {
            throw new IllegalArgumentException("'" + spec + "': expected " + count + " size(s), got " + v.length);
        }
        if (layout != null && !java.util.List.of(layouts).contains(layout)) {
            throw new IllegalArgumentException("'" + spec + "': layout '" + layout + "' is not one of "
                    + java.util.List.of(layouts));
        }
    }
}
