package io.spherekit.trainer.keras;

import io.spherekit.trainer.keras.KerasImporter.KLayer;
import io.spherekit.trainer.keras.KerasImporter.Planner;
import io.spherekit.trainer.keras.KerasImporter.Tensor;

import java.util.List;

/**
 * Maps one Keras layer class onto the DL4J graph being planned: checks the layer's config against its inputs, and
 * records what its output is on the DL4J side (a new vertex, or a padding or flatten folded into the next layer).
 * Errors are {@link KerasImportException}s naming the Keras layer ({@link KLayer#describe()}).
 */
interface KerasLayerMapper {

    /** The Keras {@code class_name} this mapper handles, e.g. {@code "Conv2D"}. */
    String kerasClass();

    /** Whether the layer may read a pending ZeroPadding2D (it becomes the layer's own padding). */
    default boolean foldsPadding() {
        return false;
    }

    /** Whether the layer may read a Flatten's output (it becomes DL4J's CNN→dense preprocessor). */
    default boolean foldsFlatten() {
        return false;
    }

    /**
     * @param in the DL4J-side tensors of the layer's inputs, in Keras order
     */
    void plan(KLayer layer, List<Tensor> in, Planner planner);
}
