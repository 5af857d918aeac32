package io.spherekit.trainer.model;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;

/**
 * Base of SphereKit's SameDiff layers: instantiates the runtime layer with the corrected backward pass
 * ({@link ExternalErrorsFixLayer}: DL4J M2.1 doubles every {@code SameDiffLayer} gradient).
 */
public abstract class FixedSameDiffLayer extends SameDiffLayer {

    protected FixedSameDiffLayer() {
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
            Collection<TrainingListener> listeners, int index, INDArray paramsView, boolean initializeParams,
            DataType dataType) {
        return ExternalErrorsFixLayer.create(this, conf, index, paramsView, initializeParams, dataType);
    }
}
