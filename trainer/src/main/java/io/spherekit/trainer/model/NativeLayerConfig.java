package io.spherekit.trainer.model;

import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;
import org.nd4j.shade.jackson.annotation.JsonIgnoreProperties;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Collection;

/**
 * Base of the backbone layer configurations whose runtime layers are hand-written ND4J ({@link SdConv2D},
 * {@link ChannelPReLU}): instantiation through {@link NativeLayers#wire}, no preprocessor, no pretraining, and
 * loading of model files written when these were SameDiff layers (unknown fields ignored, {@code updater} read as
 * the updater).
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
@JsonIgnoreProperties(ignoreUnknown = true)
public abstract class NativeLayerConfig extends BaseLayer {

    protected NativeLayerConfig() {
    }

    /** Throws {@link IllegalStateException} naming the layer when a size it needs is still unknown. */
    protected abstract void checkReady();

    /** The runtime layer for this configuration. */
    protected abstract org.deeplearning4j.nn.layers.BaseLayer<?> createLayer(NeuralNetConfiguration conf,
                                                                             DataType networkDataType);

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                                                       Collection<TrainingListener> listeners, int layerIndex,
                                                       INDArray paramsView, boolean initializeParams,
                                                       DataType networkDataType) {
        checkReady();
        return NativeLayers.wire(createLayer(conf, networkDataType), this, conf, listeners, layerIndex, paramsView,
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

    /** Reads model files of the SameDiff versions, which stored the updater as {@code updater}. */
    @JsonProperty("updater")
    private void setLegacyUpdater(IUpdater updater) {
        if (this.iUpdater == null) {
            this.iUpdater = updater;
        }
    }
}
