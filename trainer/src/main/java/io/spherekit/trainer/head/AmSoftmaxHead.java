package io.spherekit.trainer.head;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;

import java.util.LinkedHashMap;
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
public class AmSoftmaxHead extends MarginHead {
    private double s = 30;
    private double m = 0.35;

    protected AmSoftmaxHead() {
    }

    /**
     * @param s scale, &gt; 0
     * @param m additive cosine margin, ≥ 0
     */
    public AmSoftmaxHead(long nIn, long numClasses, double s, double m) {
        super(nIn, numClasses);
        if (!(s > 0) || !(m >= 0)) {
            throw new IllegalArgumentException("AM-Softmax needs s > 0 and m >= 0, got s=" + s + " m=" + m);
        }
        this.s = s;
        this.m = m;
    }

    public double getS() { return s; }
    public double getM() { return m; }

    @Override
    public String headName() { return "amsoftmax"; }

    @Override
    public Map<String, String> describe() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("s", Double.toString(s));
        d.put("m", Double.toString(m));
        return d;
    }

    @Override
    protected SDVariable[] logits(SameDiff sd, SDVariable x, SDVariable labels, Map<String, SDVariable> p) {
        SDVariable cos = cosine(sd, x, p.get(WEIGHT), norm(sd, x, 1));
        return new SDVariable[]{cos.sub(labels.mul(m)).mul(s), cos.mul(s)};
    }
}
