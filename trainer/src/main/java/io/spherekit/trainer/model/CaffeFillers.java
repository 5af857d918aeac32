package io.spherekit.trainer.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Caffe's weight fillers, as used by wy1iu/sphereface {@code sphereface_model.prototxt}.
 *
 * <ul>
 *   <li>{@code xavier}: Caffe's {@code XavierFiller} with the default {@code variance_norm: FAN_IN}:
 *       uniform on {@code [−a, a]} with {@code a = sqrt(3 / fan_in)} (caffe/include/caffe/filler.hpp).
 *       It is not DL4J's {@code WeightInit.XAVIER}, which is a Gaussian with variance {@code 2/(fan_in+fan_out)}.</li>
 *   <li>{@code gaussian}: zero-mean normal with the given standard deviation (the residual-unit convs use 0.01).</li>
 * </ul>
 */
public final class CaffeFillers {
    private CaffeFillers() {
    }

    /** Fills {@code target} in place with U(−√(3/fanIn), √(3/fanIn)). */
    public static void xavier(INDArray target, long fanIn) {
        if (fanIn <= 0) {
            throw new IllegalArgumentException("fanIn must be > 0, got " + fanIn);
        }
        double a = Math.sqrt(3.0 / fanIn);
        INDArray u = Nd4j.rand(target.dataType(), target.shape()); // U[0,1) from the seeded global RNG
        target.assign(u.muli(2 * a).subi(a));
    }

    /** Fills {@code target} in place with N(0, std²). */
    public static void gaussian(INDArray target, double std) {
        if (!(std >= 0)) {
            throw new IllegalArgumentException("std must be >= 0, got " + std);
        }
        INDArray g = Nd4j.randn(target.dataType(), target.shape());
        target.assign(g.muli(std));
    }
}
