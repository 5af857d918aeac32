package io.spherekit.onnx;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Builds one ONNX {@link OnnxMl.GraphProto}: graph inputs and outputs, weight initializers and nodes.
 *
 * <ul>
 *   <li>Names are unique: {@link #uniqueName} turns a hint into a fresh name ({@code hint}, {@code hint_1}, ...).
 *       Graph input and output names are taken literally and must be free.</li>
 *   <li>Float initializers are stored as raw little-endian bytes ({@code raw_data}). With
 *       {@link WeightPrecision#FLOAT16} they are stored as FLOAT16 and a {@code Cast} to FLOAT follows each one, so
 *       the graph computes in float32 with half the file size.</li>
 *   <li>A dimension of {@link #BATCH} in a shape is written as the symbolic dimension {@code "batch"}.</li>
 *   <li>Every {@link OnnxValue} remembers its builder; passing a value of another builder is rejected.</li>
 * </ul>
 * Not thread-safe. {@link #build()} may be called once.
 */
public final class OnnxGraphBuilder {

    /** Shape marker for the symbolic batch dimension. */
    public static final long BATCH = -1;
    /** The name of the symbolic batch dimension. */
    public static final String BATCH_PARAM = "batch";

    /** How float weights are stored. */
    public enum WeightPrecision { FLOAT32, FLOAT16 }

    private final String graphName;
    private final WeightPrecision precision;
    private final OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder();
    private final Set<String> valueNames = new HashSet<>();
    private final Set<String> nodeNames = new HashSet<>();
    /** Names handed out by {@link #uniqueName} that no value carries yet. */
    private final Set<String> reservedUnbound = new HashSet<>();
    private long parameterCount;
    private boolean built;

    public OnnxGraphBuilder(String graphName) {
        this(graphName, WeightPrecision.FLOAT32);
    }

    public OnnxGraphBuilder(String graphName, WeightPrecision precision) {
        if (graphName == null || graphName.isBlank()) {
            throw new IllegalArgumentException("graph name must not be blank");
        }
        this.graphName = graphName;
        this.precision = Objects.requireNonNull(precision, "precision");
        graph.setName(graphName);
    }

    public String graphName() {
        return graphName;
    }

    public WeightPrecision precision() {
        return precision;
    }

    /** Number of weight elements stored in initializers so far. */
    public long parameterCount() {
        return parameterCount;
    }

    /** A value name not used yet in this graph, derived from {@code hint}; reserved on return. */
    public String uniqueName(String hint) {
        String name = fresh(hint);
        reservedUnbound.add(name);
        return name;
    }

    private String fresh(String hint) {
        return reserve(valueNames, sanitize(hint));
    }

    private static String reserve(Set<String> taken, String base) {
        String name = base;
        for (int i = 1; !taken.add(name); i++) {
            name = base + "_" + i;
        }
        return name;
    }

    private static String sanitize(String hint) {
        return hint == null || hint.isBlank() ? "v" : hint;
    }

    private void claimExact(String name, String what) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException(what + " name must not be blank");
        }
        if (!valueNames.add(name)) {
            throw new IllegalArgumentException(what + " name '" + name + "' is already used in graph '" + graphName + "'");
        }
    }

    private void checkOpen() {
        if (built) {
            throw new IllegalStateException("graph '" + graphName + "' was already built");
        }
    }

    private void checkOwn(OnnxValue v) {
        Objects.requireNonNull(v, "value");
        if (v.owner() != this) {
            throw new IllegalArgumentException("value '" + v.name() + "' belongs to graph '" + v.owner().graphName()
                    + "', not to graph '" + graphName + "'");
        }
    }

    /** A tensor type with a shape; {@link #BATCH} entries become the symbolic {@code "batch"} dim. */
    public static OnnxMl.TypeProto tensorType(OnnxMl.TensorProto.DataType type, long... dims) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        for (long d : dims) {
            if (d == BATCH) {
                shape.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam(BATCH_PARAM));
            } else if (d > 0) {
                shape.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
            } else {
                throw new IllegalArgumentException("dimension must be > 0 or BATCH, got " + d);
            }
        }
        return OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape))
                .build();
    }

    /** Declares a graph input called exactly {@code name}. */
    public OnnxValue input(String name, OnnxMl.TensorProto.DataType type, long... dims) {
        checkOpen();
        OnnxMl.TypeProto t = tensorType(type, dims);
        claimExact(name, "input");
        graph.addInput(OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(t));
        return new OnnxValue(this, name);
    }

    /**
     * Declares {@code value} a graph output. The ONNX output carries the value's own name: produce it with the
     * wanted name (see {@link #node(OnnxOp, String, List, Map, List)}).
     */
    public void output(OnnxValue value, OnnxMl.TensorProto.DataType type, long... dims) {
        checkOpen();
        checkOwn(value);
        graph.addOutput(OnnxMl.ValueInfoProto.newBuilder().setName(value.name()).setType(tensorType(type, dims)));
    }

    /**
     * Adds a float weight. With {@link WeightPrecision#FLOAT16} the stored tensor is FLOAT16 and the returned value
     * is the output of a {@code Cast} to FLOAT.
     *
     * @param hint   name hint (made unique)
     * @param values the elements in row-major (c) order
     * @param dims   the shape; its product must equal {@code values.length}
     */
    public OnnxValue floatInitializer(String hint, float[] values, long... dims) {
        checkOpen();
        long n = 1;
        for (long d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("initializer '" + hint + "': negative dimension " + d);
            }
            n *= d;
        }
        if (n != values.length) {
            throw new IllegalArgumentException("initializer '" + hint + "': shape " + Arrays.toString(dims)
                    + " holds " + n + " elements, got " + values.length);
        }
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder();
        for (long d : dims) {
            t.addDims(d);
        }
        parameterCount += values.length;
        if (precision == WeightPrecision.FLOAT32) {
            ByteBuffer buf = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            buf.asFloatBuffer().put(values);
            String name = fresh(hint);
            graph.addInitializer(t.setName(name).setDataType(OnnxMl.TensorProto.DataType.FLOAT.getNumber())
                    .setRawData(ByteString.copyFrom(buf.array())));
            return new OnnxValue(this, name);
        }
        ByteBuffer buf = ByteBuffer.allocate(values.length * Short.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            buf.putShort(Float16.fromFloat(v));
        }
        String name = fresh(hint + "_fp16");
        graph.addInitializer(t.setName(name).setDataType(OnnxMl.TensorProto.DataType.FLOAT16.getNumber())
                .setRawData(ByteString.copyFrom(buf.array())));
        return node(OnnxOp.CAST, hint, List.of(new OnnxValue(this, name)),
                Map.of("to", (long) OnnxMl.TensorProto.DataType.FLOAT.getNumber()));
    }

    /**
     * Adds an int64 initializer (shapes, pads, axes: never affected by {@link WeightPrecision}, not counted in
     * {@link #parameterCount()}).
     *
     * @param dims the shape; its product must equal {@code values.length} (no dims: a scalar)
     */
    public OnnxValue longInitializer(String hint, long[] values, long... dims) {
        checkOpen();
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        if (n != values.length) {
            throw new IllegalArgumentException("initializer '" + hint + "': shape " + Arrays.toString(dims)
                    + " holds " + n + " elements, got " + values.length);
        }
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder();
        for (long d : dims) {
            t.addDims(d);
        }
        ByteBuffer buf = ByteBuffer.allocate(values.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buf.asLongBuffer().put(values);
        String name = fresh(hint);
        graph.addInitializer(t.setName(name).setDataType(OnnxMl.TensorProto.DataType.INT64.getNumber())
                .setRawData(ByteString.copyFrom(buf.array())));
        return new OnnxValue(this, name);
    }

    /**
     * The empty name that stands for an omitted optional input placed before a given one (ONNX: "an empty string
     * may be used in the place of an actual argument's name to indicate a missing argument").
     */
    public OnnxValue absent() {
        checkOpen();
        return new OnnxValue(this, "");
    }

    /** A 1-D int64 initializer holding {@code values}. */
    public OnnxValue longs(String hint, long... values) {
        return longInitializer(hint, values, values.length);
    }

    /** Adds a node with one output, named after {@code hint} (made unique); the node gets the same name. */
    public OnnxValue node(OnnxOp op, String hint, List<OnnxValue> inputs, Map<String, ?> attributes) {
        checkOpen();
        return node(op, hint, inputs, attributes, List.of(uniqueName(hint))).get(0);
    }

    /**
     * Adds a node whose outputs have exactly the given names. Names obtained from {@link #uniqueName} may be passed;
     * any other name must be unused.
     *
     * @throws IllegalArgumentException on a value of another graph, a taken output name, or an op-table violation
     */
    public List<OnnxValue> node(OnnxOp op, String hint, List<OnnxValue> inputs, Map<String, ?> attributes,
                                List<String> outputNames) {
        checkOpen();
        List<String> in = new ArrayList<>(inputs.size());
        for (OnnxValue v : inputs) {
            checkOwn(v);
            in.add(v.name());
        }
        // Validate before claiming any name, so a rejected node leaves no trace.
        OnnxMl.NodeProto probe = op.build(sanitize(hint), in, outputNames, attributes);
        Set<String> distinct = new HashSet<>(outputNames);
        if (distinct.size() != outputNames.size()) {
            throw new IllegalArgumentException(op.opType() + " (node '" + hint + "'): duplicate output names " + outputNames);
        }
        for (String o : outputNames) {
            if (!reservedUnbound.contains(o) && valueNames.contains(o)) {
                throw new IllegalArgumentException(op.opType() + " (node '" + hint + "'): output name '" + o
                        + "' is already used in graph '" + graphName + "'");
            }
        }
        for (String o : outputNames) {
            if (!reservedUnbound.remove(o)) {
                claimExact(o, "output");
            }
        }
        String nodeName = reserve(nodeNames, sanitize(hint));
        graph.addNode(probe.toBuilder().setName(nodeName));
        List<OnnxValue> out = new ArrayList<>(outputNames.size());
        for (String o : outputNames) {
            out.add(new OnnxValue(this, o));
        }
        return out;
    }

    /** The finished graph. */
    public OnnxMl.GraphProto build() {
        checkOpen();
        if (graph.getOutputCount() == 0) {
            throw new IllegalStateException("graph '" + graphName + "' has no outputs");
        }
        built = true;
        return graph.build();
    }
}
