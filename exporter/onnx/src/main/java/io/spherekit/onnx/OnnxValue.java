package io.spherekit.onnx;

/**
 * A named value (graph input, initializer or node output) of one {@link OnnxGraphBuilder}. Values are handed out
 * by their builder only, and a builder rejects values handed out by another one.
 */
public final class OnnxValue {
    private final OnnxGraphBuilder owner;
    private final String name;

    OnnxValue(OnnxGraphBuilder owner, String name) {
        this.owner = owner;
        this.name = name;
    }

    /** The value's name in the ONNX graph. */
    public String name() {
        return name;
    }

    OnnxGraphBuilder owner() {
        return owner;
    }

    @Override
    public String toString() {
        return name + " (graph '" + owner.graphName() + "')";
    }
}
