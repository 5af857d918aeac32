package io.spherekit.onnx;

import ai.onnx.proto.OnnxMl;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/** Stamps an ONNX graph into a model, and describes models for summaries. */
public final class OnnxModels {

    /** IR version written: 8 (ONNX 1.10+), read by every ONNX Runtime since 1.10. */
    public static final long IR_VERSION = 8;
    /** Default default-domain opset. */
    public static final int DEFAULT_OPSET = 17;
    public static final int MIN_OPSET = 13;
    public static final int MAX_OPSET = 21;
    public static final String PRODUCER_NAME = "spherekit";

    private OnnxModels() {
    }

    /** @throws IllegalArgumentException unless {@code MIN_OPSET <= opset <= MAX_OPSET} */
    public static int checkOpset(int opset) {
        if (opset < MIN_OPSET || opset > MAX_OPSET) {
            throw new IllegalArgumentException("opset must be between " + MIN_OPSET + " and " + MAX_OPSET + ", got " + opset);
        }
        return opset;
    }

    /**
     * Wraps {@code graph} into a model: IR version {@value #IR_VERSION}, one opset import (default domain),
     * producer {@value #PRODUCER_NAME} with {@code producerVersion}, doc string, and {@code metadata} as
     * {@code metadata_props} (sorted by key).
     */
    public static OnnxMl.ModelProto stamp(OnnxMl.GraphProto graph, int opset, String producerVersion, String docString,
                                          Map<String, String> metadata) {
        Objects.requireNonNull(graph, "graph");
        checkOpset(opset);
        OnnxMl.ModelProto.Builder m = OnnxMl.ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                .setProducerName(PRODUCER_NAME)
                .setProducerVersion(producerVersion == null ? "" : producerVersion)
                .setGraph(graph);
        if (docString != null) {
            m.setDocString(docString);
        }
        if (metadata != null) {
            new TreeMap<>(metadata).forEach((k, v) -> m.addMetadataProps(
                    OnnxMl.StringStringEntryProto.newBuilder().setKey(k).setValue(v == null ? "" : v)));
        }
        return m.build();
    }

    /**
     * The same model with {@code entries} set in its {@code metadata_props}: an entry replaces the one with the
     * same key, the other entries stay; all sorted by key, as {@link #stamp} writes them. The graph and every other
     * field are unchanged.
     *
     * @param model   the model
     * @param entries keys and values to set (a null value is written as "")
     * @return the updated model
     */
    public static OnnxMl.ModelProto withMetadata(OnnxMl.ModelProto model, Map<String, String> entries) {
        Objects.requireNonNull(model, "model");
        Map<String, String> all = new TreeMap<>();
        model.getMetadataPropsList().forEach(e -> all.put(e.getKey(), e.getValue()));
        entries.forEach((k, v) -> all.put(Objects.requireNonNull(k, "metadata key"), v == null ? "" : v));
        OnnxMl.ModelProto.Builder m = model.toBuilder().clearMetadataProps();
        all.forEach((k, v) -> m.addMetadataProps(OnnxMl.StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        return m.build();
    }

    /** Node count by op type, sorted by op type. */
    public static Map<String, Integer> opCounts(OnnxMl.ModelProto model) {
        Map<String, Integer> counts = new TreeMap<>();
        for (OnnxMl.NodeProto n : model.getGraph().getNodeList()) {
            counts.merge(n.getOpType(), 1, Integer::sum);
        }
        return counts;
    }

    /** Total number of elements over all initializers. */
    public static long parameterCount(OnnxMl.ModelProto model) {
        long total = 0;
        for (OnnxMl.TensorProto t : model.getGraph().getInitializerList()) {
            long n = 1;
            for (long d : t.getDimsList()) {
                n *= d;
            }
            total += n;
        }
        return total;
    }

    /** E.g. {@code input float[batch,3,112,96]}. */
    public static String describe(OnnxMl.ValueInfoProto v) {
        OnnxMl.TypeProto.Tensor t = v.getType().getTensorType();
        OnnxMl.TensorProto.DataType dt = OnnxMl.TensorProto.DataType.forNumber(t.getElemType());
        List<String> dims = new ArrayList<>();
        for (OnnxMl.TensorShapeProto.Dimension d : t.getShape().getDimList()) {
            dims.add(d.hasDimParam() ? d.getDimParam() : Long.toString(d.getDimValue()));
        }
        return v.getName() + " " + (dt == null ? "type" + t.getElemType() : dt.name().toLowerCase(java.util.Locale.ROOT))
                + "[" + String.join(",", dims) + "]";
    }
}
