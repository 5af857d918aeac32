package io.spherekit.trainer.head;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;

import java.util.Map;

/**
 * Plain softmax baseline: logits {@code x·W + b}, no normalisation, no margin. Input {@code [B, D]}, labels one-hot
 * {@code [B, C]}.
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class SoftmaxHead extends MarginHead {
    public static final String BIAS = "b";

    protected SoftmaxHead() {
    }

    public SoftmaxHead(long nIn, long numClasses) {
        super(nIn, numClasses);
    }

    @Override
    public String headName() { return "softmax"; }

    @Override
    public Map<String, String> describe() { return Map.of(); }

    @Override
    public Geometry geometry() { return Geometry.LINEAR; }

    /** No margin: {@code null}. */
    @Override
    public Target target(Map<String, INDArray> params) { return null; }

    @Override
    protected String extraParam() { return BIAS; }

    @Override
    protected long extraParamLength() { return numClasses(); }

    private long numClasses() { return nOut; }

    @Override
    protected void initializeParameters(Map<String, INDArray> params) {
        super.initializeParameters(params);
        params.get(BIAS).assign(0);
    }
}
