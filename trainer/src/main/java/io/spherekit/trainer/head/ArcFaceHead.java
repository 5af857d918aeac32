package io.spherekit.trainer.head;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;

import java.util.Map;

/**
 * ArcFace head: additive angular margin. Deng et al., "ArcFace", CVPR 2019, Eq. 3:
 * <pre>
 *   f_y = s · cos(θ_y + m)   if θ_y + m ≤ π,   else  s · (cos θ_y − m·sin m)   (the monotonic fallback of
 *                                                     insightface {@code arcface_torch/losses.py}, easy_margin=False)
 *   f_j = s · cos θ_j        for j ≠ y
 * </pre>
 * cos(θ+m) = cos θ·cos m − sin θ·sin m with {@code sin θ = sqrt(max(1 − cos²θ, 1e-7))}: the clamp keeps the
 * square root away from negative arguments and its gradient finite at |cos θ| = 1. cos m, sin m and the
 * threshold cos(π − m) are computed once at construction. Defaults s = 64, m = 0.5.
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class ArcFaceHead extends ScaledMarginHead {

    /** Lower clamp of {@code 1 − cos²θ} under the square root. */
    static final double SIN_SQ_MIN = 1e-7;

    protected ArcFaceHead() {
        this.s = 64;
        this.m = 0.5;
    }

    /**
     * @param s scale, &gt; 0
     * @param m margin, in radians, in [0, π/2)
     */
    public ArcFaceHead(long nIn, long numClasses, double s, double m) {
        super(nIn, numClasses, s, m, Math.PI / 2);
    }

    @Override
    public String headName() { return "arcface"; }

    @Override
    public Geometry geometry() { return Geometry.SCALED; }

    /**
     * {@code t(c) = cos(θ+m)} where {@code c > cos(π − m)}, {@code c − m·sin m} below it, the average of the two
     * exactly on the threshold; {@code t'(c) = cos m + sin m · c / sin θ} (0 for the {@code sin θ} term where the
     * clamp is active) and 1 below the threshold.
     */
    @Override
    public Target target(Map<String, INDArray> params) {
        double cosM = Math.cos(m);
        double sinM = Math.sin(m);
        double threshold = Math.cos(Math.PI - m);
        double fallbackShift = m * sinM;
        return (c, out) -> {
            double sinSq = 1.0 - c * c;
            double sin = Math.sqrt(Math.max(sinSq, SIN_SQ_MIN));
            double dSin = sinSq > SIN_SQ_MIN ? -c / sin : 0.0;
            double in = (Math.signum(c - threshold) + 1) / 2; // 1 where θ + m < π, ½ on the threshold
            out[0] = in * (c * cosM - sin * sinM) + (1 - in) * (c - fallbackShift);
            out[1] = in * (cosM - sinM * dSin) + (1 - in);
        };
    }
}
