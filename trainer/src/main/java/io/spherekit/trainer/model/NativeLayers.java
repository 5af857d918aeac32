package io.spherekit.trainer.model;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;

/** Shared wiring of SphereKit's hand-written DL4J layers (conv, PReLU, margin heads). */
public final class NativeLayers {
    private NativeLayers() {
    }

    /**
     * Connects a runtime layer to its configuration and to its views of the network's flattened parameters, as
     * DL4J's own layer configurations do in {@code instantiate}.
     *
     * @param initializeParams fill the parameters with the configuration's initial values
     * @return {@code layer}
     */
    public static <L extends org.deeplearning4j.nn.layers.BaseLayer<?>> L wire(L layer, Layer config,
            NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex, INDArray paramsView,
            boolean initializeParams) {
        layer.setListeners(listeners);
        layer.setIndex(layerIndex);
        layer.setParamsViewArray(paramsView);
        layer.setParamTable(config.initializer().init(conf, paramsView, initializeParams));
        layer.setConf(conf);
        return layer;
    }
}
