package io.spherekit.core;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.spherekit.core.Preprocessing.ChannelOrder;
import io.spherekit.core.align.AlignmentTemplate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The preprocessing of a model that carries no (or not all) SphereKit metadata, given field by field: from a small
 * JSON file next to the {@code .onnx} file ({@link #besideModel}, e.g. {@code arcface.onnx.json}) or from
 * command-line flags. Every field is optional; {@link #over} lays one card over another, and {@link #resolve} lays a
 * card over the model's own metadata, so the precedence is flags &gt; card file &gt; model metadata.
 *
 * <p>The card file is one JSON object (unknown fields are refused, so a typo is not silently ignored):
 * <pre>{@code
 * {
 *   "input_size": "112x112",          // HxW in pixels (or [112, 112])
 *   "mean": 127.5,                    // subtracted from each 0..255 pixel value
 *   "scale": 0.0078125,               // multiplies (pixel - mean); or "std": 128 (scale = 1/std), not both
 *   "channel_order": "RGB",           // or "BGR"
 *   "layout": "NCHW",                 // the only layout the runtime feeds (optional)
 *   "crop": [0, 0, 1, 1],             // fixed crop box of --align crop: left, top, width, height as fractions
 *   "align_template": "arcface-112x112" // template of --align detect (default: by input size)
 * }
 * }</pre>
 * (comments are not allowed in the file). A model without {@code spherekit.input.*} metadata needs
 * {@code input_size}, {@code mean}, {@code scale} (or {@code std}) and {@code channel_order} from the card or the
 * flags; {@code crop} defaults to the whole image and {@code align_template} to the template of the input size.
 *
 * <p>Instances are immutable, {@link java.io.Serializable} (a batch job ships the card read on its driver to the
 * machines that open the model) and compared by value ({@link #equals}: every field, the template by name).
 */
public final class ModelCard implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    /** The fields of a card, with their JSON name and the command-line flag that sets each. */
    public enum Field {
        INPUT_SIZE("input_size", "--input-size HxW"),
        MEAN("mean", "--mean"),
        SCALE("scale", "--scale (or --std)"),
        CHANNEL_ORDER("channel_order", "--channel-order"),
        LAYOUT("layout", "--layout"),
        CROP("crop", "--crop"),
        ALIGN_TEMPLATE("align_template", "--align-template");

        private final String json;
        private final String flag;

        Field(String json, String flag) {
            this.json = json;
            this.flag = flag;
        }

        /** @return the field's name in the card file, e.g. {@code input_size} */
        public String json() {
            return json;
        }

        /** @return the command-line flag, e.g. {@code --input-size HxW} */
        public String flag() {
            return flag;
        }
    }

    /** The fields a model without {@code spherekit.input.*} metadata must get from a card or flags. */
    public static final List<Field> REQUIRED = List.of(Field.INPUT_SIZE, Field.MEAN, Field.SCALE, Field.CHANNEL_ORDER);

    /** Suffix of the card file next to a model: {@code MODEL.onnx} → {@code MODEL.onnx.json}. */
    public static final String SUFFIX = ".json";

    /** No field set. */
    private static final ObjectMapper STRICT_JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    public static final ModelCard EMPTY = new ModelCard(null, null, null, null, null, null, null, null);

    /** Thrown by {@link #resolve} when required fields are missing; {@link #missing()} lists them. */
    public static final class IncompleteException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final transient List<Field> missing;

        IncompleteException(List<Field> missing) {
            super("the model has no " + ModelMetadata.PREFIX + "input.* metadata and no value for "
                    + String.join(", ", missing.stream().map(Field::json).toList()));
            this.missing = List.copyOf(missing);
        }

        /** @return the missing fields, in {@link Field} order */
        public List<Field> missing() {
            return missing;
        }
    }

    private final int[] size;
    private final Float mean;
    private final Float scale;
    private final ChannelOrder channelOrder;
    private final String layout;
    private final double[] crop;
    private final AlignmentTemplate alignTemplate;
    private final String source;

    private ModelCard(int[] size, Float mean, Float scale, ChannelOrder channelOrder, String layout, double[] crop,
                      AlignmentTemplate alignTemplate, String source) {
        this.size = size;
        this.mean = mean;
        this.scale = scale;
        this.channelOrder = channelOrder;
        this.layout = layout;
        this.crop = crop;
        this.alignTemplate = alignTemplate;
        this.source = source;
    }

    /** @return a builder with no field set */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the card file of {@code model}: the same path with {@value #SUFFIX} appended */
    public static Path besideModel(Path model) {
        return model.resolveSibling(model.getFileName() + SUFFIX);
    }

    /**
     * Reads a card file.
     *
     * @param file the JSON file (see the class comment)
     * @return the card; {@link #source()} names the file
     * @throws IOException naming the file when it cannot be read, is not JSON, is not exactly one object (trailing
     *                     content or a duplicate key is refused), has an unknown
     *                     field or a bad value (the message names the field and what it must be)
     */
    public static ModelCard read(Path file) throws IOException {
        // exactly one object: no trailing content, no key given twice (the second would silently win)
        if (!Files.isRegularFile(file)) {
            throw new IOException("model card " + file + " does not exist");
        }
        JsonNode n;
        try {
            n = STRICT_JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IOException("model card " + file + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (n == null || !n.isObject()) {
            throw new IOException("model card " + file + " must hold one JSON object");
        }
        Builder b = builder().source(file.toString());
        try {
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode v = e.getValue();
                switch (e.getKey()) {
                    case "input_size" -> {
                        if (v.isArray() && v.size() == 2 && v.get(0).canConvertToInt() && v.get(1).canConvertToInt()
                                && v.get(0).isIntegralNumber() && v.get(1).isIntegralNumber()) {
                            b.inputSize(v.get(0).asInt(), v.get(1).asInt());
                        } else if (v.isTextual()) {
                            b.inputSize(v.asText());
                        } else {
                            throw new IllegalArgumentException("input_size must be \"HxW\" or [H, W], got " + v);
                        }
                    }
                    case "mean" -> b.mean(number(v, "mean"));
                    case "scale" -> {
                        if (n.has("std")) {
                            throw new IllegalArgumentException("give scale or std, not both");
                        }
                        b.scale(number(v, "scale"));
                    }
                    case "std" -> b.std(number(v, "std"));
                    case "channel_order" -> b.channelOrder(text(v, "channel_order"));
                    case "layout" -> b.layout(text(v, "layout"));
                    case "crop" -> {
                        if (v.isArray() && v.size() == 4) {
                            double[] c = new double[4];
                            for (int i = 0; i < 4; i++) {
                                c[i] = number(v.get(i), "crop[" + i + "]");
                            }
                            b.crop(c);
                        } else if (v.isTextual()) {
                            b.crop(v.asText());
                        } else {
                            throw new IllegalArgumentException("crop must be [left, top, width, height] (fractions)"
                                    + ", got " + v);
                        }
                    }
                    case "align_template" -> b.alignTemplate(text(v, "align_template"));
                    default -> throw new IllegalArgumentException("unknown field '" + e.getKey() + "' (known: "
                            + String.join(", ", Arrays.stream(Field.values()).map(Field::json).toList())
                            + ", std)");
                }
            }
        } catch (IllegalArgumentException e) {
            throw new IOException("model card " + file + ": " + e.getMessage(), e);
        }
        return b.build();
    }

    private static double number(JsonNode v, String field) {
        if (v == null || !v.isNumber()) {
            throw new IllegalArgumentException(field + " must be a number, got " + v);
        }
        return v.asDouble();
    }

    private static String text(JsonNode v, String field) {
        if (!v.isTextual()) {
            throw new IllegalArgumentException(field + " must be a string, got " + v);
        }
        return v.asText();
    }

    /**
     * This card over {@code lower}: each field set here wins, the others come from {@code lower}.
     *
     * @param lower the card of lower precedence (e.g. the file, under the flags)
     */
    public ModelCard over(ModelCard lower) {
        return new ModelCard(size != null ? size : lower.size, mean != null ? mean : lower.mean,
                scale != null ? scale : lower.scale, channelOrder != null ? channelOrder : lower.channelOrder,
                layout != null ? layout : lower.layout, crop != null ? crop : lower.crop,
                alignTemplate != null ? alignTemplate : lower.alignTemplate,
                source != null ? (lower.source != null ? source + " over " + lower.source : source) : lower.source);
    }

    /**
     * The preprocessing of a model: this card's fields over {@code base} (the model's metadata preprocessing,
     * or a fallback such as {@link Preprocessing#LFW_SPHEREFACE}).
     *
     * @param base    what the model says, or {@code null} when it says nothing
     * @param fixedHw the model input's fixed {@code {H, W}}, used for the size when neither card nor base gives
     *                one; {@code null} when the model leaves them symbolic
     * @return the preprocessing
     * @throws IncompleteException      with {@code base == null}, listing the {@link #REQUIRED} fields not set
     * @throws IllegalArgumentException when the values do not form a valid preprocessing (e.g. a crop box outside
     *                                  the image)
     */
    public Preprocessing resolve(Preprocessing base, int[] fixedHw) {
        int[] hw = size;
        if (base == null) {
            List<Field> missing = new ArrayList<>();
            if (hw == null && fixedHw == null) {
                missing.add(Field.INPUT_SIZE);
            }
            if (mean == null) {
                missing.add(Field.MEAN);
            }
            if (scale == null) {
                missing.add(Field.SCALE);
            }
            if (channelOrder == null) {
                missing.add(Field.CHANNEL_ORDER);
            }
            if (!missing.isEmpty()) {
                throw new IncompleteException(missing);
            }
            if (hw == null) {
                hw = fixedHw;
            }
            double[] c = crop != null ? crop : new double[] {0, 0, 1, 1};
            return new Preprocessing(c[0], c[1], c[2], c[3], hw[0], hw[1], mean, scale, channelOrder);
        }
        double[] c = crop != null ? crop
                : new double[] {base.cropLeft(), base.cropTop(), base.cropWidth(), base.cropHeight()};
        return new Preprocessing(c[0], c[1], c[2], c[3], hw != null ? hw[0] : base.height(),
                hw != null ? hw[1] : base.width(), mean != null ? mean : base.mean(),
                scale != null ? scale : base.scale(), channelOrder != null ? channelOrder : base.channelOrder());
    }

    /** @return whether no field is set */
    public boolean isEmpty() {
        return size == null && mean == null && scale == null && channelOrder == null && layout == null
                && crop == null && alignTemplate == null;
    }

    /** @return the alignment template, when set */
    public AlignmentTemplate alignTemplate() {
        return alignTemplate;
    }

    /** @return the input layout, when set (always {@code NCHW}: other layouts are refused when set) */
    public String layout() {
        return layout;
    }

    /** @return where the card came from (file names, joined by " over "), or {@code null} for flags only */
    public String source() {
        return source;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ModelCard c)) {
            return false;
        }
        return Arrays.equals(size, c.size) && java.util.Objects.equals(mean, c.mean)
                && java.util.Objects.equals(scale, c.scale) && channelOrder == c.channelOrder
                && java.util.Objects.equals(layout, c.layout) && Arrays.equals(crop, c.crop)
                && java.util.Objects.equals(templateName(), c.templateName())
                && java.util.Objects.equals(source, c.source);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(Arrays.hashCode(size), mean, scale, channelOrder, layout, Arrays.hashCode(crop),
                templateName(), source);
    }

    private String templateName() {
        return alignTemplate == null ? null : alignTemplate.name();
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "ModelCard[size=%s, mean=%s, scale=%s, order=%s, layout=%s, crop=%s,"
                        + " template=%s, source=%s]", size == null ? null : size[0] + "x" + size[1], mean, scale,
                channelOrder, layout, crop == null ? null : Arrays.toString(crop),
                alignTemplate == null ? null : alignTemplate.name(), source);
    }

    /**
     * Builds a card field by field; every setter validates its value and throws an
     * {@link IllegalArgumentException} naming the field and what it must be.
     */
    public static final class Builder {
        private int[] size;
        private Float mean;
        private Float scale;
        private ChannelOrder channelOrder;
        private String layout;
        private double[] crop;
        private AlignmentTemplate alignTemplate;
        private String source;

        private Builder() {
        }

        /** @param hxw e.g. {@code 112x112} (height × width, pixels, 1..4096) */
        public Builder inputSize(String hxw) {
            String[] p = hxw.strip().toLowerCase(Locale.ROOT).split("x");
            try {
                if (p.length == 2) {
                    return inputSize(Integer.parseInt(p[0].strip()), Integer.parseInt(p[1].strip()));
                }
            } catch (NumberFormatException e) {
                // fall through
            }
            throw new IllegalArgumentException("input size must be HxW in pixels (e.g. 112x112), got '" + hxw + "'");
        }

        /**
         * @param height input height in pixels, 1..4096
         * @param width  input width in pixels, 1..4096
         */
        public Builder inputSize(int height, int width) {
            if (height < 1 || height > 4096 || width < 1 || width > 4096) {
                throw new IllegalArgumentException("input size must be in 1..4096 pixels per side, got " + height
                        + "x" + width);
            }
            this.size = new int[] {height, width};
            return this;
        }

        /** @param m subtracted from each 0..255 pixel value, finite */
        public Builder mean(double m) {
            if (!Double.isFinite(m)) {
                throw new IllegalArgumentException("mean must be a finite number, got " + m);
            }
            this.mean = (float) m;
            return this;
        }

        /** @param s multiplies the centred value, finite and non-zero */
        public Builder scale(double s) {
            if (!Double.isFinite(s) || s == 0) {
                throw new IllegalArgumentException("scale must be finite and non-zero, got " + s);
            }
            this.scale = (float) s;
            return this;
        }

        /** @param std divides the centred value: sets the scale to {@code 1/std} (std finite and non-zero) */
        public Builder std(double std) {
            if (!Double.isFinite(std) || std == 0) {
                throw new IllegalArgumentException("std must be finite and non-zero, got " + std);
            }
            this.scale = (float) (1.0 / std);
            return this;
        }

        /** @param order {@code RGB} or {@code BGR} (any case) */
        public Builder channelOrder(String order) {
            try {
                this.channelOrder = ChannelOrder.valueOf(order.strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("channel order must be RGB or BGR, got '" + order + "'");
            }
            return this;
        }

        /** @param l must be {@code NCHW} (the only layout the runtime feeds; models in NHWC are refused here) */
        public Builder layout(String l) {
            if (!"NCHW".equalsIgnoreCase(l.strip())) {
                throw new IllegalArgumentException("layout must be NCHW (input [N,3,H,W]), got '" + l
                        + "': the runtime does not feed NHWC models");
            }
            this.layout = "NCHW";
            return this;
        }

        /** @param c {@code left,top,width,height} fractions of the image, e.g. {@code 0,0,1,1} */
        public Builder crop(String c) {
            String[] p = c.split(",");
            if (p.length != 4) {
                throw new IllegalArgumentException("crop must be LEFT,TOP,WIDTH,HEIGHT (fractions of the image),"
                        + " got '" + c + "'");
            }
            double[] d = new double[4];
            try {
                for (int i = 0; i < 4; i++) {
                    d[i] = Double.parseDouble(p[i].strip());
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("crop must be four numbers LEFT,TOP,WIDTH,HEIGHT, got '" + c + "'");
            }
            return crop(d);
        }

        /** @param c {@code {left, top, width, height}} fractions: left, top in [0,1), the box inside the image */
        public Builder crop(double[] c) {
            if (c.length != 4 || !(c[0] >= 0 && c[0] < 1) || !(c[1] >= 0 && c[1] < 1) || !(c[2] > 0)
                    || !(c[3] > 0) || c[0] + c[2] > 1 + 1e-9 || c[1] + c[3] > 1 + 1e-9) {
                throw new IllegalArgumentException("crop must be LEFT,TOP,WIDTH,HEIGHT fractions with the box inside"
                        + " the image (left+width <= 1, top+height <= 1), got " + Arrays.toString(c));
            }
            this.crop = c.clone();
            return this;
        }

        /** @param name a built-in template name ({@link AlignmentTemplate#named}) */
        public Builder alignTemplate(String name) {
            this.alignTemplate = AlignmentTemplate.named(name.strip());
            return this;
        }

        /** @param s where these values come from (e.g. the card file), for messages */
        public Builder source(String s) {
            this.source = s;
            return this;
        }

        /** @return the card */
        public ModelCard build() {
            return new ModelCard(size, mean, scale, channelOrder, layout, crop, alignTemplate, source);
        }
    }
}
