package io.spherekit.trainer.head;

import org.nd4j.shade.jackson.annotation.JsonAutoDetect;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Shared part of the normalised-feature heads with a scale {@code s} and a margin {@code m}
 * ({@link AmSoftmaxHead}, {@link ArcFaceHead}): the two hyper-parameters, their validation and their metadata.
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public abstract class ScaledMarginHead extends MarginHead {
    protected double s;
    protected double m;

    protected ScaledMarginHead() {
    }

    /**
     * @param s    scale, &gt; 0
     * @param m    margin, in [0, maxM)
     * @param maxM exclusive upper bound of m for this head
     */
    protected ScaledMarginHead(long nIn, long numClasses, double s, double m, double maxM) {
        super(nIn, numClasses);
        if (!(s > 0) || !(m >= 0 && m < maxM)) {
            throw new IllegalArgumentException(headName() + " needs s > 0 and 0 <= m < " + maxM + ", got s=" + s + " m=" + m);
        }
        this.s = s;
        this.m = m;
    }

    public double getS() { return s; }

    @Override
    public double scale() { return s; }
    public double getM() { return m; }

    @Override
    public Map<String, String> describe() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("s", Double.toString(s));
        d.put("m", Double.toString(m));
        return d;
    }
}
