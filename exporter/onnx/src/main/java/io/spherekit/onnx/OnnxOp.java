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
            attr("training_mode", OnnxAttributeType.INT, false)),
    /** Transposed convolution: X, W {@code [C_in, C_out/group, kH, kW]}[, B]. */
    CONV_TRANSPOSE("ConvTranspose", 2, 3, 1, 1,
            attr("auto_pad", OnnxAttributeType.STRING, false),
            attr("dilations", OnnxAttributeType.INTS, false),
            attr("group", OnnxAttributeType.INT, false),
            attr("kernel_shape", OnnxAttributeType.INTS, false),
            attr("output_padding", OnnxAttributeType.INTS, false),
            attr("output_shape", OnnxAttributeType.INTS, false),
            attr("pads", OnnxAttributeType.INTS, false),
            attr("strides", OnnxAttributeType.INTS, false)),
    /** Max pooling (padding never wins the max). */
    MAX_POOL("MaxPool", 1, 1, 1, 2,
            attr("auto_pad", OnnxAttributeType.STRING, false),
            attr("ceil_mode", OnnxAttributeType.INT, false),
            attr("dilations", OnnxAttributeType.INTS, false),
            attr("kernel_shape", OnnxAttributeType.INTS, true),
            attr("pads", OnnxAttributeType.INTS, false),
            attr("storage_order", OnnxAttributeType.INT, false),
            attr("strides", OnnxAttributeType.INTS, false)),
    /** Average pooling; {@code count_include_pad} decides whether padded cells count in the divisor. */
    AVERAGE_POOL("AveragePool", 1, 1, 1, 1,
            attr("auto_pad", OnnxAttributeType.STRING, false),
            attr("ceil_mode", OnnxAttributeType.INT, false),
            attr("count_include_pad", OnnxAttributeType.INT, false),
            attr("kernel_shape", OnnxAttributeType.INTS, true),
            attr("pads", OnnxAttributeType.INTS, false),
            attr("strides", OnnxAttributeType.INTS, false)),
    /** Lp pooling {@code (Σ|x|^p)^(1/p)} over each window. */
    LP_POOL("LpPool", 1, 1, 1, 1,
            attr("auto_pad", OnnxAttributeType.STRING, false),
            attr("kernel_shape", OnnxAttributeType.INTS, true),
            attr("p", OnnxAttributeType.INT, false),
            attr("pads", OnnxAttributeType.INTS, false),
            attr("strides", OnnxAttributeType.INTS, false)),
    /** Mean over all spatial positions: {@code [N,C,H,W] -> [N,C,1,1]}. */
    GLOBAL_AVERAGE_POOL("GlobalAveragePool", 1, 1, 1, 1),
    /** Max over all spatial positions. */
    GLOBAL_MAX_POOL("GlobalMaxPool", 1, 1, 1, 1),
    /** Lp norm over all spatial positions. */
    GLOBAL_LP_POOL("GlobalLpPool", 1, 1, 1, 1,
            attr("p", OnnxAttributeType.INT, false)),
    /** {@code x} if x &gt;= 0 else {@code alpha·x}. */
    LEAKY_RELU("LeakyRelu", 1, 1, 1, 1, attr("alpha", OnnxAttributeType.FLOAT, false)),
    /** {@code x} if x &gt;= 0 else {@code alpha·(e^x − 1)}. */
    ELU("Elu", 1, 1, 1, 1, attr("alpha", OnnxAttributeType.FLOAT, false)),
    /** {@code gamma·x} if x &gt; 0 else {@code gamma·alpha·(e^x − 1)}. */
    SELU("Selu", 1, 1, 1, 1,
            attr("alpha", OnnxAttributeType.FLOAT, false),
            attr("gamma", OnnxAttributeType.FLOAT, false)),
    SIGMOID("Sigmoid", 1, 1, 1, 1),
    /** {@code max(0, min(1, alpha·x + beta))}. */
    HARD_SIGMOID("HardSigmoid", 1, 1, 1, 1,
            attr("alpha", OnnxAttributeType.FLOAT, false),
            attr("beta", OnnxAttributeType.FLOAT, false)),
    TANH("Tanh", 1, 1, 1, 1),
    /** Softmax along {@code axis} (opset 13+ semantics: that one axis). */
    SOFTMAX("Softmax", 1, 1, 1, 1, attr("axis", OnnxAttributeType.INT, false)),
    /** {@code log(softmax(x))} along {@code axis}. */
    LOG_SOFTMAX("LogSoftmax", 1, 1, 1, 1, attr("axis", OnnxAttributeType.INT, false)),
    /** {@code x − bias} if x &gt; lambd, {@code x + bias} if x &lt; −lambd, else 0. */
    SHRINK("Shrink", 1, 1, 1, 1,
            attr("bias", OnnxAttributeType.FLOAT, false),
            attr("lambd", OnnxAttributeType.FLOAT, false)),
    /** {@code ln(e^x + 1)}. */
    SOFTPLUS("Softplus", 1, 1, 1, 1),
    /** {@code x / (1 + |x|)}. */
    SOFTSIGN("Softsign", 1, 1, 1, 1),
    /** {@code x} if x &gt; alpha else 0. */
    THRESHOLDED_RELU("ThresholdedRelu", 1, 1, 1, 1, attr("alpha", OnnxAttributeType.FLOAT, false)),
    /** Clamps to [min, max]: input, optional min and max scalars. */
    CLIP("Clip", 1, 3, 1, 1),
    ABS("Abs", 1, 1, 1, 1),
    /** −1, 0 or 1. */
    SIGN("Sign", 1, 1, 1, 1),
    SQRT("Sqrt", 1, 1, 1, 1),
    /** The Gauss error function {@code erf(x) = 2/sqrt(pi) * integral_0^x e^(-t^2) dt}, element-wise (opset 13+). */
    ERF("Erf", 1, 1, 1, 1),
    /** {@code e^x}, element-wise. */
    EXP("Exp", 1, 1, 1, 1),
    RECIPROCAL("Reciprocal", 1, 1, 1, 1),
    /** Element-wise product with broadcasting: A, B. */
    MUL("Mul", 2, 2, 1, 1),
    /** Element-wise A − B with broadcasting. */
    SUB("Sub", 2, 2, 1, 1),
    /** Element-wise A / B with broadcasting. */
    DIV("Div", 2, 2, 1, 1),
    /** Element-wise maximum of 1 or more inputs. */
    MAX("Max", 1, Integer.MAX_VALUE, 1, 1),
    /** Element-wise minimum of 1 or more inputs. */
    MIN("Min", 1, Integer.MAX_VALUE, 1, 1),
    /** Element-wise mean of 1 or more inputs. */
    MEAN("Mean", 1, Integer.MAX_VALUE, 1, 1),
    /** Concatenation along {@code axis}. */
    CONCAT("Concat", 1, Integer.MAX_VALUE, 1, 1, attr("axis", OnnxAttributeType.INT, true)),
    /** Padding: data, pads (int64 {@code [2·rank]}: all begins, then all ends)[, constant_value[, axes]]. */
    PAD("Pad", 2, 4, 1, 1, attr("mode", OnnxAttributeType.STRING, false)),
    /** Slice: data, starts, ends[, axes[, steps]] (int64 tensors). */
    SLICE("Slice", 3, 5, 1, 1),
    /** Reshape: data, shape (int64; 0 copies the input dim, -1 is inferred). */
    RESHAPE("Reshape", 2, 2, 1, 1, attr("allowzero", OnnxAttributeType.INT, false)),
    /** Broadcasts the input to the int64 shape (bidirectional broadcasting). */
    EXPAND("Expand", 2, 2, 1, 1),
    /** Permutes the axes. */
    TRANSPOSE("Transpose", 1, 1, 1, 1, attr("perm", OnnxAttributeType.INTS, false)),
    /** Sum over the int64 {@code axes} input (an input since opset 13). */
    REDUCE_SUM("ReduceSum", 1, 2, 1, 1,
            attr("keepdims", OnnxAttributeType.INT, false),
            attr("noop_with_empty_axes", OnnxAttributeType.INT, false)),
    /** Moves {@code blocksize×blocksize} spatial blocks into channels (DCR order: {@code (by·b + bx)·C + c}). */
    SPACE_TO_DEPTH("SpaceToDepth", 1, 1, 1, 1, attr("blocksize", OnnxAttributeType.INT, true)),
    /** Gathers slices of data along {@code axis} at the int64 indices: data, indices. */
    GATHER("Gather", 2, 2, 1, 1, attr("axis", OnnxAttributeType.INT, false)),
    /**
     * One-layer LSTM: X {@code [T, N, I]}, W {@code [D, 4H, I]}, R {@code [D, 4H, H]}[, B {@code [D, 8H]}[,
     * sequence_lens[, initial_h[, initial_c[, P]]]]], gates in iofc order; outputs Y {@code [T, D, N, H]}[, Y_h[, Y_c]].
     */
    LSTM("LSTM", 3, 8, 0, 3,
            attr("activations", OnnxAttributeType.STRINGS, false),
            attr("clip", OnnxAttributeType.FLOAT, false),
            attr("direction", OnnxAttributeType.STRING, false),
            attr("hidden_size", OnnxAttributeType.INT, false),
            attr("input_forget", OnnxAttributeType.INT, false),
            attr("layout", OnnxAttributeType.INT, false)),
    /**
     * One-layer simple RNN {@code H_t = f(X_t·Wᵀ + H_{t-1}·Rᵀ + Wb + Rb)}: X {@code [T, N, I]}, W {@code [D, H, I]},
     * R {@code [D, H, H]}[, B {@code [D, 2H]}[, sequence_lens[, initial_h]]]; outputs Y {@code [T, D, N, H]}[, Y_h].
     */
    RNN("RNN", 3, 6, 0, 2,
            attr("activations", OnnxAttributeType.STRINGS, false),
            attr("clip", OnnxAttributeType.FLOAT, false),
            attr("direction", OnnxAttributeType.STRING, false),
            attr("hidden_size", OnnxAttributeType.INT, false),
            attr("layout", OnnxAttributeType.INT, false)),
    /** Local response normalisation across channels. */
    LRN("LRN", 1, 1, 1, 1,
            attr("alpha", OnnxAttributeType.FLOAT, false),
            attr("beta", OnnxAttributeType.FLOAT, false),
            attr("bias", OnnxAttributeType.FLOAT, false),
            attr("size", OnnxAttributeType.INT, true));

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
