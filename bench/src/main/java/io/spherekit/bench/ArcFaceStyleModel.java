package io.spherekit.bench;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;
import io.spherekit.core.io.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Turns a SphereKit 112×96 model into an ArcFace-style one with the contract of a third-party face model: one
 * input {@code [1,3,112,112]} (fixed batch 1, NCHW), no {@code metadata_props} at all. The new graph starts with a
 * {@code Slice} that keeps columns 8..103 of the 112×112 input (ONNX {@code Slice}, opset 10+: starts 8, ends 104,
 * axis 3) and feeds them to the original network.
 *
 * <p>Why this is an honest stand-in: the ArcFace 112×112 alignment template is the SphereFace 112×96 one shifted by
 * +8 px in x (see {@code AlignmentTemplate.ARCFACE}), so an image aligned onto {@code arcface-112x112} and sliced
 * to columns 8..103 is the image aligned onto {@code sphereface-112x96}; likewise a fixed crop box widened by 8
 * output pixels on each side. The wrapped model therefore has to reproduce the original's accuracy when the runtime
 * is told the right preprocessing through flags or a model card, which is what this exercises.
 *
 * <pre>ArcFaceStyleModel IN.onnx OUT.onnx</pre>
 * The output is written atomically.
 */
public final class ArcFaceStyleModel {

    /** Columns cut from each side of the 112-wide input. */
    static final int PAD = 8;

    private ArcFaceStyleModel() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: ArcFaceStyleModel IN.onnx OUT.onnx");
            System.exit(2);
        }
        OnnxMl.ModelProto in;
        try (InputStream s = Files.newInputStream(Path.of(args[0]))) {
            in = OnnxMl.ModelProto.parseFrom(s);
        }
        OnnxMl.ModelProto out = wrap(in);
        AtomicFiles.write(Path.of(args[1]), o -> out.writeTo(o));
        System.out.println("wrote " + args[1] + ": input [1,3,112,112], Slice columns " + PAD + ".." + (112 - PAD - 1)
                + " -> " + args[0] + "'s graph, metadata_props removed (" + in.getMetadataPropsCount() + " entries)");
    }

    /**
     * @param model a model with one input {@code [N,3,112,96]}
     * @return the wrapped model: input {@code [1,3,112,112]}, output batch fixed to 1, no metadata
     * @throws IllegalArgumentException if the input is not 112×96 NCHW
     */
    static OnnxMl.ModelProto wrap(OnnxMl.ModelProto model) {
        OnnxMl.GraphProto g = model.getGraph();
        List<OnnxMl.ValueInfoProto> realInputs = g.getInputList().stream()
                .filter(v -> g.getInitializerList().stream().noneMatch(t -> t.getName().equals(v.getName())))
                .toList();
        if (realInputs.size() != 1) {
            throw new IllegalArgumentException("expected one graph input, found " + realInputs.size());
        }
        OnnxMl.ValueInfoProto old = realInputs.get(0);
        OnnxMl.TensorShapeProto shape = old.getType().getTensorType().getShape();
        if (shape.getDimCount() != 4 || shape.getDim(2).getDimValue() != 112 || shape.getDim(3).getDimValue() != 96) {
            throw new IllegalArgumentException("expected input [N,3,112,96], found " + shape);
        }
        String inner = old.getName();
        String outer = "arcface_input";
        OnnxMl.ValueInfoProto newInput = old.toBuilder().setName(outer)
                .setType(old.getType().toBuilder().setTensorType(old.getType().getTensorType().toBuilder()
                        .setShape(OnnxMl.TensorShapeProto.newBuilder()
                                .addDim(dim(1)).addDim(dim(3)).addDim(dim(112)).addDim(dim(112)))))
                .build();
        OnnxMl.GraphProto.Builder gb = g.toBuilder();
        for (int i = 0; i < gb.getInputCount(); i++) {
            if (gb.getInput(i).getName().equals(inner)) {
                gb.setInput(i, newInput);
            }
        }
        gb.addInitializer(int64("arcface_slice_starts", PAD));
        gb.addInitializer(int64("arcface_slice_ends", 112 - PAD));
        gb.addInitializer(int64("arcface_slice_axes", 3));
        OnnxMl.NodeProto slice = OnnxMl.NodeProto.newBuilder().setName("arcface_112x112_to_112x96")
                .setOpType("Slice").addInput(outer).addInput("arcface_slice_starts").addInput("arcface_slice_ends")
                .addInput("arcface_slice_axes").addOutput(inner).build();
        gb.clearNode().addNode(slice).addAllNode(g.getNodeList());
        for (int i = 0; i < gb.getOutputCount(); i++) {
            OnnxMl.ValueInfoProto.Builder o = gb.getOutputBuilder(i);
            OnnxMl.TensorShapeProto.Builder s = o.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder();
            if (s.getDimCount() > 0) {
                s.setDim(0, dim(1));
            }
        }
        return model.toBuilder().setGraph(gb).clearMetadataProps()
                .setDocString("ArcFace-style contract test model: input [1,3,112,112], no SphereKit metadata").build();
    }

    private static OnnxMl.TensorShapeProto.Dimension dim(long v) {
        return OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(v).build();
    }

    private static OnnxMl.TensorProto int64(String name, long v) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
        return OnnxMl.TensorProto.newBuilder().setName(name).setDataType(OnnxMl.TensorProto.DataType.INT64.getNumber())
                .addDims(1).setRawData(ByteString.copyFrom(b.array())).build();
    }
}
