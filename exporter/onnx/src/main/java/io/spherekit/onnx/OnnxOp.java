package io.spherekit.onnx;

import ai.onnx.proto.OnnxMl;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The ONNX operators (default domain) that SphereKit writes, each with its input and output arity and its
 * attributes (type and mandatory flag), as defined by the ONNX operator specification for opsets 13–21.
 *
 * <p>Every node is made by {@link #build}, which rejects a wrong number of inputs or outputs, an unknown attribute,
 * a missing mandatory attribute and an attribute value of the wrong type. Its messages name the op and the counts.
 */
public enum OnnxOp {
    /** 2-D (or N-D) convolution: X, W[, B]. */
    CONV("Conv", 2, 3, 1, 1,
            attr("auto_pad", OnnxAttributeType.STRING, false),
            attr("dilations", OnnxAttributeType.INTS, false),
            attr("group", OnnxAttributeType.INT, false),
            attr("kernel_shape", OnnxAttributeType.INTS, false),
            attr("pads", OnnxAttributeType.INTS, false),
            attr("strides", OnnxAttributeType.INTS, false)),
    /** Parametric ReLU: X, slope (unidirectionally broadcast to X; {@code [C,1,1]} for NCHW). */
    PRELU("PRelu", 2, 2, 1, 1),
    /** Rectified linear unit: {@code max(X, 0)}. */
    RELU("Relu", 1, 1, 1, 1),
    /** Element-wise sum with broadcasting: A, B. */
    ADD("Add", 2, 2, 1, 1),
    /** Flattens to 2-D: dims before {@code axis} become rows. */
    FLATTEN("Flatten", 1, 1, 1, 1,
            attr("axis", OnnxAttributeType.INT, false)),
    /** {@code alpha·A'·B' + beta·C}: A, B[, C]. */
    GEMM("Gemm", 2, 3, 1, 1,
            attr("alpha", OnnxAttributeType.FLOAT, false),
            attr("beta", OnnxAttributeType.FLOAT, false),
            attr("transA", OnnxAttributeType.INT, false),
            attr("transB", OnnxAttributeType.INT, false)),
    /** Lp-normalisation along {@code axis} (p = 1 or 2). */
    LP_NORMALIZATION("LpNormalization", 1, 1, 1, 1,
            attr("axis", OnnxAttributeType.INT, false),
            attr("p", OnnxAttributeType.INT, false)),
    /** Type conversion; {@code to} is a {@code TensorProto.DataType} number. */
    CAST("Cast", 1, 1, 1, 1,
            attr("to", OnnxAttributeType.INT, true),
            attr("saturate", OnnxAttributeType.INT, false)),
    /** Copies its input. */
    IDENTITY("Identity", 1, 1, 1, 1),
    /** Batch normalisation: X, scale, B, input_mean, input_var; one output in inference mode. */
    BATCH_NORMALIZATION("BatchNormalization", 5, 5, 1, 3,
            attr("epsilon", OnnxAttributeType.FLOAT, false),
            attr("momentum", OnnxAttributeType.FLOAT, false),
            attr("training_mode", OnnxAttributeType.INT, false));

    /** An attribute an op accepts. */
    public record AttributeSpec(String name, OnnxAttributeType type, boolean mandatory) {
    }

    private final String opType;
    private final int minInputs;
    private final int maxInputs;
    private final int minOutputs;
    private final int maxOutputs;
    private final Map<String, AttributeSpec> attributes;

    OnnxOp(String opType, int minInputs, int maxInputs, int minOutputs, int maxOutputs, AttributeSpec... attrs) {
        this.opType = opType;
        this.minInputs = minInputs;
        this.maxInputs = maxInputs;
        this.minOutputs = minOutputs;
        this.maxOutputs = maxOutputs;
        Map<String, AttributeSpec> m = new LinkedHashMap<>();
        for (AttributeSpec a : attrs) {
            m.put(a.name(), a);
        }
        this.attributes = Collections.unmodifiableMap(m);
    }

    private static AttributeSpec attr(String name, OnnxAttributeType type, boolean mandatory) {
        return new AttributeSpec(name, type, mandatory);
    }

    /** The ONNX {@code op_type}, e.g. {@code "Conv"}. */
    public String opType() { return opType; }
    public int minInputs() { return minInputs; }
    public int maxInputs() { return maxInputs; }
    public int minOutputs() { return minOutputs; }
    public int maxOutputs() { return maxOutputs; }
    /** Accepted attributes by name, in specification order. */
    public Map<String, AttributeSpec> attributes() { return attributes; }

    /**
     * Makes a node of this op.
     *
     * @param nodeName   the node's name (unique in its graph; the caller's business)
     * @param inputs     input value names, in the op's order
     * @param outputs    output value names
     * @param attributes attribute values by name (Java values, see {@link OnnxAttributeType}); may be empty
     * @throws IllegalArgumentException on a wrong arity, an unknown attribute, a missing mandatory attribute or a
     *                                  value of the wrong type; the message names the op and the counts
     */
    public OnnxMl.NodeProto build(String nodeName, List<String> inputs, List<String> outputs, Map<String, ?> attributes) {
        if (inputs.size() < minInputs || inputs.size() > maxInputs) {
            throw new IllegalArgumentException(opType + " (node '" + nodeName + "') takes " + range(minInputs, maxInputs)
                    + " input(s), got " + inputs.size());
        }
        if (outputs.size() < minOutputs || outputs.size() > maxOutputs) {
            throw new IllegalArgumentException(opType + " (node '" + nodeName + "') produces " + range(minOutputs, maxOutputs)
                    + " output(s), got " + outputs.size());
        }
        Map<String, ?> given = attributes == null ? Map.of() : attributes;
        for (String name : given.keySet()) {
            if (!this.attributes.containsKey(name)) {
                throw new IllegalArgumentException(opType + " (node '" + nodeName + "') has no attribute '" + name
                        + "'; it accepts " + this.attributes.size() + ": " + this.attributes.keySet());
            }
        }
        for (AttributeSpec spec : this.attributes.values()) {
            if (spec.mandatory() && !given.containsKey(spec.name())) {
                throw new IllegalArgumentException(opType + " (node '" + nodeName + "') is missing mandatory attribute '"
                        + spec.name() + "' (" + given.size() + " attribute(s) given: " + given.keySet() + ")");
            }
        }
        OnnxMl.NodeProto.Builder node = OnnxMl.NodeProto.newBuilder()
                .setName(nodeName)
                .setOpType(opType)
                .addAllInput(inputs)
                .addAllOutput(outputs);
        // Sorted so that the same node always serialises to the same bytes.
        for (Map.Entry<String, ?> e : new TreeMap<>(given).entrySet()) {
            node.addAttribute(this.attributes.get(e.getKey()).type().toProto(opType, e.getKey(), e.getValue()));
        }
        return node.build();
    }

    private static String range(int min, int max) {
        return min == max ? Integer.toString(min) : min + " to " + max;
    }
}
