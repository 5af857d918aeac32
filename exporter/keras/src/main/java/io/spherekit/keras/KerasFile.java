package io.spherekit.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A Keras model file read into its architecture (the model config JSON) and its weights, by layer name.
 *
 * <ul>
 *   <li>Keras 3 native {@code .keras}: a zip holding {@code config.json} and {@code model.weights.h5}. In the weights
 *       file each layer is a group {@code layers/<path>/vars} whose attribute {@code name} is the layer's name and
 *       whose datasets {@code 0, 1, ...} are its variables in creation order (Keras 3 {@code saving_lib}).</li>
 *   <li>Legacy Keras 2 HDF5 ({@code .h5}, also written by Keras 3's {@code model.save("x.h5")}): the root attribute
 *       {@code model_config} holds the config JSON; group {@code model_weights/<layer>} lists its variables in the
 *       attribute {@code weight_names}, each a dataset at {@code model_weights/<layer>/<weight name>}.</li>
 * </ul>
 * Weights are float32 (float64 datasets are narrowed), in the dataset's row-major order with the dataset's shape.
 */
public final class KerasFile {

    /** One variable: row-major data and its shape. */
    public record Tensor(float[] data, int[] shape) {
        /** Number of elements. */
        public int size() {
            return data.length;
        }

        @Override
        public String toString() {
            return "Tensor" + Arrays.toString(shape);
        }
    }

    private final Path file;
    private final JsonNode config;
    private final Map<String, List<Tensor>> weights;

    private KerasFile(Path file, JsonNode config, Map<String, List<Tensor>> weights) {
        this.file = file;
        this.config = config;
        this.weights = weights;
    }

    /** The file this was read from. */
    public Path file() {
        return file;
    }

    /** The model config: {@code {"class_name": "Functional"|"Sequential"|"Model", "config": {...}}}. */
    public JsonNode config() {
        return config;
    }

    /** Variables by layer name (layers without variables are absent). */
    public Map<String, List<Tensor>> weights() {
        return weights;
    }

    /**
     * Reads a {@code .keras} zip or a legacy {@code .h5} file (told apart by content: a zip starts with {@code PK}).
     *
     * @throws KerasException if the file is missing, is neither format, or lacks the config or weights
     */
    public static KerasFile read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new KerasException("Keras model not found: " + file);
        }
        byte[] head = new byte[8];
        try (InputStream in = Files.newInputStream(file)) {
            int n = in.readNBytes(head, 0, head.length);
            if (n >= 2 && head[0] == 'P' && head[1] == 'K') {
                return readKeras3(file);
            }
            if (n == 8 && (head[0] & 0xff) == 0x89 && head[1] == 'H' && head[2] == 'D' && head[3] == 'F') {
                return readLegacyH5(file);
            }
        } catch (IOException e) {
            throw new KerasException("cannot read Keras model " + file + ": " + e.getMessage(), e);
        }
        throw new KerasException(file + " is neither a Keras 3 .keras zip nor a Keras 2 HDF5 file");
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private static KerasFile readKeras3(Path file) throws IOException {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            ZipEntry cfg = zip.getEntry("config.json");
            ZipEntry w = zip.getEntry("model.weights.h5");
            if (cfg == null) {
                throw new KerasException(file + ": the .keras zip has no config.json");
            }
            JsonNode config;
            try (InputStream in = zip.getInputStream(cfg)) {
                config = JSON.readTree(in);
            }
            Map<String, List<Tensor>> weights = new LinkedHashMap<>();
            if (w != null) {
                byte[] bytes;
                try (InputStream in = zip.getInputStream(w)) {
                    bytes = in.readAllBytes();
                }
                try (HdfFile h5 = HdfFile.fromBytes(bytes)) {
                    Node layers = h5.getChild("layers");
                    if (layers instanceof Group g) {
                        collectKeras3(file, g, weights);
                    }
                }
            }
            return new KerasFile(file, config, weights);
        }
    }

    /** Walks {@code layers/...}: every group with a {@code vars} child is a layer; nested models recurse. */
    private static void collectKeras3(Path file, Group group, Map<String, List<Tensor>> out) {
        for (Node child : group.getChildren().values()) {
            if (!(child instanceof Group g)) {
                continue;
            }
            Node vars = g.getChild("vars");
            if (vars instanceof Group v) {
                String name = stringAttribute(v, "name");
                List<Tensor> list = new ArrayList<>();
                for (int i = 0; v.getChild(Integer.toString(i)) instanceof Dataset d; i++) {
                    list.add(tensor(file, d));
                }
                if (!list.isEmpty()) {
                    if (name == null) {
                        throw new KerasException(file + ": weights group " + v.getPath() + " has no 'name' attribute");
                    }
                    out.put(name, list);
                }
            }
            if (g.getChild("layers") instanceof Group nested) {
                collectKeras3(file, nested, out);
            }
        }
    }

    private static KerasFile readLegacyH5(Path file) throws IOException {
        try (HdfFile h5 = new HdfFile(file)) {
            String cfg = stringAttribute(h5, "model_config");
            if (cfg == null) {
                throw new KerasException(file + ": HDF5 file without a 'model_config' attribute (a weights-only file?)");
            }
            JsonNode config = JSON.readTree(cfg);
            Map<String, List<Tensor>> weights = new LinkedHashMap<>();
            Node mw = h5.getChild("model_weights");
            if (!(mw instanceof Group g)) {
                throw new KerasException(file + ": HDF5 file without a 'model_weights' group");
            }
            for (Node layer : g.getChildren().values()) {
                if (!(layer instanceof Group lg)) {
                    continue;
                }
                Attribute names = lg.getAttribute("weight_names");
                if (names == null || names.isEmpty() || !(names.getData() instanceof String[] arr)) {
                    continue;
                }
                List<Tensor> list = new ArrayList<>();
                for (String wn : arr) {
                    Node d = lg.getByPath(wn);
                    if (!(d instanceof Dataset ds)) {
                        throw new KerasException(file + ": weight " + lg.getPath() + "/" + wn + " is missing");
                    }
                    list.add(tensor(file, ds));
                }
                if (!list.isEmpty()) {
                    weights.put(lg.getName(), list);
                }
            }
            return new KerasFile(file, config, weights);
        }
    }

    private static String stringAttribute(Node node, String name) {
        Attribute a = node.getAttribute(name);
        if (a == null) {
            return null;
        }
        Object d = a.getData();
        if (d instanceof String s) {
            return s;
        }
        if (d instanceof String[] s && s.length == 1) {
            return s[0];
        }
        return null;
    }

    private static Tensor tensor(Path file, Dataset d) {
        int[] shape = d.isScalar() ? new int[0] : d.getDimensions();
        Object flat = d.isScalar() ? d.getData() : d.getDataFlat();
        float[] data;
        if (flat instanceof float[] f) {
            data = f;
        } else if (flat instanceof double[] dd) {
            data = new float[dd.length];
            for (int i = 0; i < dd.length; i++) {
                data[i] = (float) dd[i];
            }
        } else if (flat instanceof Float f) {
            data = new float[]{f};
        } else if (flat instanceof Double f) {
            data = new float[]{f.floatValue()};
        } else if (flat instanceof long[] l) {
            data = new float[l.length];
            for (int i = 0; i < l.length; i++) {
                data[i] = l[i];
            }
        } else if (flat instanceof Long l) {
            data = new float[]{l};
        } else {
            throw new KerasException(file + ": weight " + d.getPath() + " has unsupported type "
                    + (flat == null ? "null" : flat.getClass().getSimpleName().toLowerCase(Locale.ROOT)));
        }
        return new Tensor(data, shape);
    }
}
