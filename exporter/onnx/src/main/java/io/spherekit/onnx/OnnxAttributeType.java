package io.spherekit.onnx;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;

import java.util.List;

/** The ONNX attribute types used by {@link OnnxOp}, with conversion from plain Java values. */
public enum OnnxAttributeType {
    /** A single integer: a Java {@code Integer} or {@code Long} (or a {@code Boolean}, as 0/1). */
    INT(OnnxMl.AttributeProto.AttributeType.INT),
    /** A list of integers: {@code int[]}, {@code long[]} or a {@code List} of integers. */
    INTS(OnnxMl.AttributeProto.AttributeType.INTS),
    /** A single float: a Java {@code Float} or {@code Double}. */
    FLOAT(OnnxMl.AttributeProto.AttributeType.FLOAT),
    /** A string (UTF-8). */
    STRING(OnnxMl.AttributeProto.AttributeType.STRING),
    /** A list of strings (UTF-8): {@code String[]} or a {@code List} of strings. */
    STRINGS(OnnxMl.AttributeProto.AttributeType.STRINGS);

    private final OnnxMl.AttributeProto.AttributeType protoType;

    OnnxAttributeType(OnnxMl.AttributeProto.AttributeType protoType) {
        this.protoType = protoType;
    }

    public OnnxMl.AttributeProto.AttributeType protoType() {
        return protoType;
    }

    /**
     * Builds the attribute.
     *
     * @throws IllegalArgumentException naming the op and the attribute when {@code value} has the wrong Java type
     */
    OnnxMl.AttributeProto toProto(String opType, String name, Object value) {
        OnnxMl.AttributeProto.Builder b = OnnxMl.AttributeProto.newBuilder().setName(name).setType(protoType);
        switch (this) {
            case INT -> {
                if (value instanceof Integer || value instanceof Long) {
                    b.setI(((Number) value).longValue());
                } else if (value instanceof Boolean flag) {
                    b.setI(flag ? 1 : 0);
                } else {
                    throw wrongType(opType, name, value);
                }
            }
            case INTS -> {
                if (value instanceof int[] a) {
                    for (int v : a) {
                        b.addInts(v);
                    }
                } else if (value instanceof long[] a) {
                    for (long v : a) {
                        b.addInts(v);
                    }
                } else if (value instanceof List<?> list && list.stream().allMatch(v -> v instanceof Integer || v instanceof Long)) {
                    list.forEach(v -> b.addInts(((Number) v).longValue()));
                } else {
                    throw wrongType(opType, name, value);
                }
            }
            case FLOAT -> {
                if (value instanceof Float || value instanceof Double) {
                    b.setF(((Number) value).floatValue());
                } else {
                    throw wrongType(opType, name, value);
                }
            }
            case STRING -> {
                if (value instanceof String s) {
                    b.setS(ByteString.copyFromUtf8(s));
                } else {
                    throw wrongType(opType, name, value);
                }
            }
            case STRINGS -> {
                if (value instanceof String[] a) {
                    for (String v : a) {
                        b.addStrings(ByteString.copyFromUtf8(v));
                    }
                } else if (value instanceof List<?> list && list.stream().allMatch(v -> v instanceof String)) {
                    list.forEach(v -> b.addStrings(ByteString.copyFromUtf8((String) v)));
                } else {
                    throw wrongType(opType, name, value);
                }
            }
            default -> throw new AssertionError(this);
        }
        return b.build();
    }

    private IllegalArgumentException wrongType(String opType, String name, Object value) {
        return new IllegalArgumentException(opType + ": attribute '" + name + "' must be " + this + ", got "
                + (value == null ? "null" : value.getClass().getSimpleName()));
    }
}
