package io.spherekit.trainer.model;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;

import java.util.Collection;

/**
 * Base of the backbone layer configurations whose runtime layers are hand-written ND4J ({@link SphereConv2D},
 * {@link ChannelPReLU}): instantiation through {@link LayerWiring#wire}, no preprocessor, no pretraining.
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public abstract class BackboneLayerConfig extends BaseLayer {

    protected BackboneLayerConfig() {
    }

    /** Throws {@link IllegalStateException} naming the layer when a size it needs is still unknown. */
    protected abstract void checkReady();

    /** The runtime layer for this configuration (DL4J's runtime {@code BaseLayer}, not this class's superclass). */
    protected abstract org.deeplearning4j.nn.layers.BaseLayer<?> createLayer(NeuralNetConfiguration conf,
                                                                             DataType networkDataType);

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
                             INDArray paramsView, boolean initializeParams, DataType networkDataType) {
        checkReady();
        return LayerWiring.wire(createLayer(conf, networkDataType), this, conf, listeners, layerIndex, paramsView,
                initializeParams);
    }

    @Override
    public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
        return null;
    }

    @Override
    public boolean isPretrainParam(String paramName) {
        return false;
    }
}
