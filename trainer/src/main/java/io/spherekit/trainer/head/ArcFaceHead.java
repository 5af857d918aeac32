package io.spherekit.trainer.head;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
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
    protected SDVariable[] logits(SameDiff sd, SDVariable x, SDVariable labels, Map<String, SDVariable> p) {
        double cosM = Math.cos(m);
        double sinM = Math.sin(m);
        double threshold = Math.cos(Math.PI - m);
        double fallbackShift = m * sinM;
        SDVariable cos = cosine(sd, x, p.get(WEIGHT), norm(sd, x, 1));
        SDVariable sin = sd.math.sqrt(sd.math.clipByValue(cos.mul(cos).rsub(1.0), 1e-7, 1.0));
        SDVariable phi = cos.mul(cosM).sub(sin.mul(sinM));
        SDVariable inRange = step(sd, cos.sub(threshold)); // 1 where θ + m < π
        SDVariable target = inRange.mul(phi).add(inRange.rsub(1.0).mul(cos.sub(fallbackShift)));
        SDVariable z = cos.add(labels.mul(target.sub(cos))).mul(s);
        return new SDVariable[]{z, cos.mul(s)};
    }
}
