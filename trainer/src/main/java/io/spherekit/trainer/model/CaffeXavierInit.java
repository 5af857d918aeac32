package io.spherekit.trainer.model;

import org.deeplearning4j.nn.weights.IWeightInit;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Caffe's {@code xavier} filler (FAN_IN) as a DL4J {@link IWeightInit}, for the built-in fc5 {@code DenseLayer}.
 * See {@link CaffeFillers#xavier}.
 */
public class CaffeXavierInit implements IWeightInit {
    @Override
    public INDArray init(double fanIn, double fanOut, long[] shape, char order, INDArray paramView) {
        INDArray w = paramView.reshape(order, shape);
        CaffeFillers.xavier(w, Math.round(fanIn));
        return w;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CaffeXavierInit;
    }

    @Override
    public int hashCode() {
        return CaffeXavierInit.class.hashCode();
    }
}
