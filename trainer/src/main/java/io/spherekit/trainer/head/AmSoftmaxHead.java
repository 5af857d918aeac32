package io.spherekit.trainer.head;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;

import java.util.Map;

/**
 * AM-Softmax / CosFace head: additive cosine margin on normalised features and weights.
 * Wang et al., "Additive Margin Softmax for Face Verification", IEEE SPL 2018, Eq. 4; Wang et al., "CosFace",
 * CVPR 2018, Eq. 4:
 * <pre>
 *   f_j = s · (cos θ_j − m · 1[j = y])
 * </pre>
 * Defaults s = 30, m = 0.35. Input {@code [B, D]}, labels one-hot {@code [B, C]}; ‖x‖ and ‖w‖ use
 * {@code sqrt(Σv² + 1e-12)}, so x = 0 and a zero weight column give cos θ = 0 and finite gradients.
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class AmSoftmaxHead extends ScaledMarginHead {

    protected AmSoftmaxHead() {
        this.s = 30;
        this.m = 0.35;
    }

    /**
     * @param s scale, &gt; 0
     * @param m margin, ≥ 0
     */
    public AmSoftmaxHead(long nIn, long numClasses, double s, double m) {
        super(nIn, numClasses, s, m, Double.POSITIVE_INFINITY);
    }

    @Override
    public String headName() { return "amsoftmax"; }

    @Override
    public Geometry geometry() { return Geometry.SCALED; }

    /** {@code t(c) = c − m}, {@code t'(c) = 1}. */
    @Override
    public Target target(Map<String, INDArray> params) {
        return (c, out) -> {
            out[0] = c - m;
            out[1] = 1.0;
        };
    }
}
