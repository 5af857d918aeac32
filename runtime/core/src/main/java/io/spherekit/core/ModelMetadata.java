package io.spherekit.core;

import java.util.Arrays;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The SphereKit model metadata: the {@code spherekit.*} string entries that the trainer writes into
 * {@code model.zip} (its {@code spherekit} object), the exporter copies into the ONNX {@code metadata_props}, and
 * the runtime reads back (preprocessing, decision threshold, model id). {@link Key} is the one table of keys; this
 * class parses a string map into typed, validated values and formats them back to a map.
 *
 * <p>Values are kept exactly as written (a parse/format round trip returns the same strings), so the models and
 * fixtures written before this class load unchanged. Keys with the {@link #PREFIX} that are not in the table are
 * kept verbatim (forward compatibility); keys without it are not SphereKit's and are left out.
 *
 * <p>No machine-local path goes into a new model: the values of {@link Type#NAME} keys (training data, its list,
 * the source) are refused by the {@link Builder} when they contain a path separator. The training data is
 * recorded as {@link TrainingData}: a dataset name, the list used, and a SHA-256 over its content.
 */
public final class ModelMetadata {

    /** Every SphereKit key starts with this. */
    public static final String PREFIX = "spherekit.";

    /** The kind of value a key holds, with its validation. */
    public enum Type {
        /** Any non-blank text. */
        TEXT("non-blank text"),
        /**
         * A name, never a path: the {@link Builder} refuses '/' and '\'; parsing also accepts the paths that
         * models written before 0.1.0's metadata table hold.
         */
        NAME("a name (no path)"),
        /** An integer {@code >= 1}. */
        POSITIVE_INT("a positive integer"),
        /** An integer {@code >= 0}. */
        COUNT("an integer >= 0"),
        /** A finite decimal number. */
        NUMBER("a finite number"),
        /** A cosine decision threshold in {@code [-1, 1]}. */
        COSINE("a cosine threshold in [-1,1]"),
        /** {@code true} or {@code false}. */
        BOOLEAN("true or false"),
        /** 64 lower-case hex digits. */
        SHA256("a SHA-256 (64 lower-case hex digits)"),
        /** The tensor layout; only {@code NCHW}. */
        LAYOUT("NCHW"),
        /** {@code RGB} or {@code BGR}. */
        CHANNEL_ORDER("RGB or BGR"),
        /** Four comma-separated fractions {@code left,top,width,height} of the image. */
        CROP("4 comma-separated fractions left,top,width,height"),
        /** How an image becomes the model input: {@code crop} (fixed crop box) or {@code detect} (detect + align). */
        ALIGN_MODE("crop or detect"),
        /** The test-time flip ({@link TestTimeFlip#id()}): {@code none}, {@code sum} or {@code concat}. */
        FLIP_MODE("none, sum or concat");

        private final String expected;

        Type(String expected) {
            this.expected = expected;
        }

        /** @return what a valid value looks like, for error messages */
        public String expected() {
            return expected;
        }

        boolean accepts(String v) {
            if (v == null || v.isBlank()) {
                return false;
            }
            try {
                switch (this) {
                    case TEXT, NAME:
                        return true;
                    case POSITIVE_INT:
                        return Integer.parseInt(v.strip()) >= 1;
                    case COUNT:
                        return Long.parseLong(v.strip()) >= 0;
                    case NUMBER:
                        return Double.isFinite(Double.parseDouble(v.strip()));
                    case COSINE: {
                        double d = Double.parseDouble(v.strip());
                        return d >= -1 && d <= 1;
                    }
                    case BOOLEAN:
                        return v.equals("true") || v.equals("false");
                    case SHA256:
                        return v.matches("[0-9a-f]{64}");
                    case LAYOUT:
                        return v.equals("NCHW");
                    case CHANNEL_ORDER:
                        return v.equals("RGB") || v.equals("BGR");
                    case ALIGN_MODE:
                        return v.equals("crop") || v.equals("detect");
                    case FLIP_MODE:
                        return v.equals("none") || v.equals("sum") || v.equals("concat");
                    case CROP: {
                        String[] c = v.split(",");
                        if (c.length != 4) {
                            return false;
                        }
                        for (String f : c) {
                            double d = Double.parseDouble(f.strip());
                            if (!(d >= 0 && d <= 1)) {
                                return false;
                            }
                        }
                        return true;
                    }
                    default:
                        throw new AssertionError(this);
                }
            } catch (NumberFormatException e) {
                return false;
            }
        }
    }

    /** The one table of SphereKit metadata keys. */
    public enum Key {
        /** SphereKit version that wrote the model, e.g. {@code 0.1.0}. */
        VERSION("version", Type.TEXT),
        /** Where a network not trained by SphereKit came from, e.g. {@code keras:model_sf4.keras}. */
        SOURCE("source", Type.NAME),
        /** The model id that galleries record (else the runtime derives one from the file's hash). */
        MODEL_ID("model_id", Type.TEXT),
        /** Backbone, e.g. {@code sphereface-20} or {@code sphereface-4-bn}. */
        NETWORK("network", Type.TEXT),
        /** Channel width multiplier on 64/128/256/512. */
        WIDTH_MULTIPLIER("width_multiplier", Type.NUMBER),
        /** Length of the embedding vector. */
        EMBEDDING_DIM("embedding_dim", Type.POSITIVE_INT),
        /** Margin head used in training: asoftmax, amsoftmax, arcface or softmax. */
        HEAD("head", Type.TEXT),
        /** Head margin m: an integer for A-Softmax, a cosine (AM-Softmax) or an angle in radians (ArcFace). */
        HEAD_M("head.m", Type.NUMBER),
        /** Head scale s (AM-Softmax, ArcFace). */
        HEAD_S("head.s", Type.NUMBER),
        /** A-Softmax λ schedule, as a formula of the iteration. */
        HEAD_LAMBDA_SCHEDULE("head.lambda_schedule", Type.TEXT),
        /** A-Softmax λ at the last iteration. */
        HEAD_LAMBDA_FINAL("head.lambda_final", Type.NUMBER),
        /** Decision threshold on the cosine of two embeddings. */
        THRESHOLD("threshold", Type.COSINE),
        /** How {@link #THRESHOLD} was chosen. */
        THRESHOLD_SOURCE("threshold.source", Type.TEXT),
        /** Training dataset name, e.g. {@code lfw-deepfunneled} (models before the table: a path). */
        TRAINING_DATA("training.data", Type.NAME),
        /** Training list and selection, e.g. {@code peopleDevTrain.txt, >= 2 images per identity}. */
        TRAINING_DATA_LIST("training.data.list", Type.NAME),
        /** SHA-256 of the training images, see {@link TrainingData}. */
        TRAINING_DATA_SHA256("training.data.sha256", Type.SHA256),
        /** Identities (classes) trained on. */
        TRAINING_IDENTITIES("training.identities", Type.COUNT),
        /** SHA-256 over the trained identities' names in class order (one per line): which class is which. */
        TRAINING_IDENTITIES_SHA256("training.identities.sha256", Type.SHA256),
        /** Fine-tuning: the model file ({@code train --init-from}) the backbone was copied from, by name. */
        INIT_FROM("training.init_from", Type.NAME),
        /** Fine-tuning: whether the source's head was kept, or why a new one was made. */
        INIT_FROM_HEAD("training.init_from.head", Type.TEXT),
        /** Fine-tuning: {@code continue} or {@code restart}, the A-Softmax λ schedule as applied. */
        INIT_FROM_LAMBDA("training.init_from.lambda", Type.TEXT),
        /** Fine-tuning: the iterations the source model had been trained for. */
        INIT_FROM_ITERATIONS("training.init_from.iterations", Type.COUNT),
        /** Added to the run's iteration in the λ schedule ({@code continue}: the source's iterations; else 0). */
        HEAD_LAMBDA_OFFSET("head.lambda_offset", Type.COUNT),
        /** Images trained on. */
        TRAINING_IMAGES("training.images", Type.COUNT),
        /** Epochs configured. */
        TRAINING_EPOCHS("training.epochs", Type.COUNT),
        /** Iterations (batches) done. */
        TRAINING_ITERATIONS("training.iterations", Type.COUNT),
        /** Input tensor layout. */
        INPUT_LAYOUT("input.layout", Type.LAYOUT),
        /** Input height in pixels. */
        INPUT_HEIGHT("input.height", Type.POSITIVE_INT),
        /** Input width in pixels. */
        INPUT_WIDTH("input.width", Type.POSITIVE_INT),
        /** Channel order of the input tensor. */
        INPUT_CHANNEL_ORDER("input.channel_order", Type.CHANNEL_ORDER),
        /** Subtracted from each 0..255 pixel value. */
        INPUT_MEAN("input.mean", Type.NUMBER),
        /** Multiplied after the mean is subtracted. */
        INPUT_SCALE("input.scale", Type.NUMBER),
        /** Crop box as fractions of the image. */
        INPUT_CROP("input.crop", Type.CROP),
        /** {@code true} when the preprocessing was assumed (an imported network), not recorded by training. */
        INPUT_ASSUMED("input.assumed", Type.BOOLEAN),
        /** The alignment template of the aligned preprocessing mode (e.g. {@code sphereface-112x96}). */
        INPUT_ALIGN_TEMPLATE("input.align.template", Type.NAME),
        /**
         * How the training images became model inputs: {@code detect} (face detection + alignment onto
         * {@link #INPUT_ALIGN_TEMPLATE}) or {@code crop} (the fixed crop box); the runtime's default mode. Absent
         * means {@code crop}.
         */
        INPUT_ALIGN("input.align", Type.ALIGN_MODE),
        /**
         * The test-time flip the model is used with ({@link TestTimeFlip}): the runtime's default mode, and the mode
         * {@link #THRESHOLD} was calibrated in when {@code evaluate --write-threshold} wrote both. Absent means
         * {@code none}.
         */
        INPUT_FLIP("input.flip", Type.FLIP_MODE),
        /** {@code int8-qdq} for a statically quantised model (QuantizeLinear/DequantizeLinear form). */
        QUANTIZATION("quantization", Type.TEXT),
        /** The quantisation scheme in words (weight and activation types, granularity). */
        QUANTIZATION_SCHEME("quantization.scheme", Type.TEXT),
        /** The calibration set: the folder's or pair list's name (never a path). */
        CALIBRATION_SET("quantization.calibration.set", Type.NAME),
        /** Images the calibration used. */
        CALIBRATION_COUNT("quantization.calibration.count", Type.POSITIVE_INT),
        /** SHA-256 over the calibration images' relative paths, sizes and bytes. */
        CALIBRATION_SHA256("quantization.calibration.sha256", Type.SHA256),
        /** Range method: {@code minmax}, {@code percentile 99.99} or {@code entropy}. */
        CALIBRATION_METHOD("quantization.calibration.method", Type.TEXT),
        /** How calibration images became model inputs: {@code crop} (the fixed box) or {@code detect} (aligned). */
        CALIBRATION_ALIGN("quantization.calibration.align", Type.TEXT);

        private final String key;
        private final Type type;

        Key(String suffix, Type type) {
            this.key = PREFIX + suffix;
            this.type = type;
        }

        /** @return the full key, e.g. {@code spherekit.input.height} */
        public String key() {
            return key;
        }

        /** @return the kind of value it holds */
        public Type type() {
            return type;
        }

        /** @return the key spelled {@code name}, if it is in the table */
        public static Optional<Key> of(String name) {
            return Arrays.stream(values()).filter(k -> k.key.equals(name)).findFirst();
        }

        @Override
        public String toString() {
            return key;
        }
    }

    /**
     * What a model was trained on, without any machine-local path.
     *
     * @param name   the dataset, e.g. {@code lfw-deepfunneled} (the image folder's name)
     * @param list   the list and selection used, e.g. {@code peopleDevTrain.txt, >= 2 images per identity}
     * @param sha256 SHA-256 over the images, independent of where the folder is (the trainer's
     *               {@code DataFingerprint} defines it), or {@code null} when unknown
     */
    public record TrainingData(String name, String list, String sha256) {
    }

    private final SortedMap<String, String> entries;
    private final Preprocessing preprocessing;

    private ModelMetadata(SortedMap<String, String> entries) {
        this.entries = Collections.unmodifiableSortedMap(entries);
        for (Map.Entry<String, String> e : entries.entrySet()) {
            Key.of(e.getKey()).ifPresent(k -> check(k, e.getValue()));
        }
        this.preprocessing = Preprocessing.fromMetadata(entries);
    }

    private static void check(Key k, String v) {
        if (!k.type().accepts(v)) {
            throw new IllegalArgumentException("metadata " + k.key() + "='" + v + "' is not "
                    + k.type().expected());
        }
    }

    /** No entries. */
    public static final ModelMetadata EMPTY = new ModelMetadata(new TreeMap<>());

    /**
     * Parses and validates {@code map}: the {@code spherekit.*} entries are kept (others are left out), every key
     * of the table must hold a value of its {@link Type}, and the {@code spherekit.input.*} keys must form a valid
     * {@link Preprocessing}.
     *
     * @param map string entries, e.g. ONNX {@code metadata_props} or a model.zip's {@code spherekit} object; null
     *            is empty
     * @throws IllegalArgumentException naming the key and the bad value
     */
    public static ModelMetadata parse(Map<String, String> map) {
        SortedMap<String, String> m = new TreeMap<>();
        if (map != null) {
            map.forEach((k, v) -> {
                if (k != null && k.startsWith(PREFIX) && v != null) {
                    m.put(k, v);
                }
            });
        }
        return new ModelMetadata(m);
    }

    /** @return the entries as a map sorted by key, unmodifiable (the format written into model files) */
    public SortedMap<String, String> toMap() {
        return entries;
    }

    /** @return the raw value of {@code key} */
    public Optional<String> get(Key key) {
        return Optional.ofNullable(entries.get(key.key()));
    }

    /**
     * @return the value of an integer key ({@link Type#POSITIVE_INT}, {@link Type#COUNT})
     * @throws IllegalArgumentException if {@code key} is not an integer key
     */
    public OptionalInt integer(Key key) {
        if (key.type() != Type.POSITIVE_INT && key.type() != Type.COUNT) {
            throw new IllegalArgumentException(key + " is not an integer key");
        }
        String v = entries.get(key.key());
        return v == null ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(v.strip()));
    }

    /**
     * @return the value of a numeric key ({@link Type#NUMBER}, {@link Type#COSINE} or an integer key)
     * @throws IllegalArgumentException if {@code key} is not numeric
     */
    public OptionalDouble number(Key key) {
        switch (key.type()) {
            case NUMBER, COSINE, POSITIVE_INT, COUNT -> {
                String v = entries.get(key.key());
                return v == null ? OptionalDouble.empty() : OptionalDouble.of(Double.parseDouble(v.strip()));
            }
            default -> throw new IllegalArgumentException(key + " is not a numeric key");
        }
    }

    /** @return the input preprocessing ({@code spherekit.input.*}), when the metadata records it */
    public Optional<Preprocessing> preprocessing() {
        return Optional.ofNullable(preprocessing);
    }

    /** @return the decision threshold ({@link Key#THRESHOLD}), a cosine in [-1, 1] */
    public OptionalDouble threshold() {
        return number(Key.THRESHOLD);
    }

    /** @return the model id ({@link Key#MODEL_ID}), stripped, when present and not blank */
    public Optional<String> modelId() {
        return get(Key.MODEL_ID).map(String::strip);
    }

    /** @return the embedding length ({@link Key#EMBEDDING_DIM}) */
    public OptionalInt embeddingDim() {
        return integer(Key.EMBEDDING_DIM);
    }

    /** @return the input height in pixels ({@link Key#INPUT_HEIGHT}) */
    public OptionalInt inputHeight() {
        return integer(Key.INPUT_HEIGHT);
    }

    /** @return the input width in pixels ({@link Key#INPUT_WIDTH}) */
    public OptionalInt inputWidth() {
        return integer(Key.INPUT_WIDTH);
    }

    /** @return the test-time flip ({@link Key#INPUT_FLIP}); {@link TestTimeFlip#NONE} when absent */
    public TestTimeFlip flip() {
        return get(Key.INPUT_FLIP).map(TestTimeFlip::parse).orElse(TestTimeFlip.NONE);
    }

    /** @return the margin head name ({@link Key#HEAD}) */
    public Optional<String> head() {
        return get(Key.HEAD);
    }

    /** @return what the model was trained on, when {@link Key#TRAINING_DATA} is present */
    public Optional<TrainingData> trainingData() {
        return get(Key.TRAINING_DATA).map(n -> new TrainingData(n, entries.get(Key.TRAINING_DATA_LIST.key()),
                entries.get(Key.TRAINING_DATA_SHA256.key())));
    }

    /** @return a builder holding these entries */
    public Builder toBuilder() {
        return new Builder(entries);
    }

    /** @return an empty builder */
    public static Builder builder() {
        return new Builder(Map.of());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelMetadata m && m.entries.equals(entries);
    }

    @Override
    public int hashCode() {
        return entries.hashCode();
    }

    @Override
    public String toString() {
        return entries.toString();
    }

    /**
     * Builds metadata for a new model: each value is validated as it is put (an {@link IllegalArgumentException}
     * names the key and the value), numbers are formatted with {@link Integer#toString(int)} and
     * {@link Double#toString(double)}, and {@link Type#NAME} values must not contain a path separator.
     */
    public static final class Builder {
        private final SortedMap<String, String> m;

        private Builder(Map<String, String> start) {
            this.m = new TreeMap<>(start);
        }

        /** Puts {@code value} (validated against the key's {@link Type}; null removes the key). */
        public Builder put(Key key, String value) {
            Objects.requireNonNull(key, "key");
            if (value == null) {
                m.remove(key.key());
                return this;
            }
            check(key, value);
            if (key.type() == Type.NAME && (value.contains("/") || value.contains("\\"))) {
                throw new IllegalArgumentException("metadata " + key.key() + "='" + value
                        + "' must be a name, not a path (no machine-local path goes into a model)");
            }
            m.put(key.key(), value);
            return this;
        }

        /** Puts an integer value. */
        public Builder put(Key key, int value) {
            return put(key, Integer.toString(value));
        }

        /** Puts a decimal value. */
        public Builder put(Key key, double value) {
            return put(key, Double.toString(value));
        }

        /** Puts every {@code spherekit.input.*} entry of {@code pre} ({@link Preprocessing#toMetadata()}). */
        public Builder preprocessing(Preprocessing pre) {
            pre.toMetadata().forEach((k, v) -> put(Key.of(k).orElseThrow(), v));
            return this;
        }

        /**
         * Puts a margin-head parameter by its short name ({@code m} or {@code s}, as the heads describe
         * themselves), e.g. {@code headParameter("m", "4")} sets {@link Key#HEAD_M}.
         *
         * @throws IllegalArgumentException for another name
         */
        public Builder headParameter(String name, String value) {
            Key k = Key.of(PREFIX + "head." + name.toLowerCase(Locale.ROOT))
                    .filter(x -> x == Key.HEAD_M || x == Key.HEAD_S)
                    .orElseThrow(() -> new IllegalArgumentException("unknown head parameter '" + name + "'"));
            return put(k, value);
        }

        /** Puts the training data: name, list and (when not null) the content hash. */
        public Builder trainingData(TrainingData data) {
            put(Key.TRAINING_DATA, data.name());
            put(Key.TRAINING_DATA_LIST, data.list());
            return put(Key.TRAINING_DATA_SHA256, data.sha256());
        }

        /** @throws IllegalArgumentException when the input keys do not form a valid preprocessing */
        public ModelMetadata build() {
            return new ModelMetadata(new TreeMap<>(m));
        }
    }
}
