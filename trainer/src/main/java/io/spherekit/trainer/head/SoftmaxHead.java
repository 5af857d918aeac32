package io.spherekit.trainer.head;

import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
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
    protected void defineExtraParameters(SDLayerParams params) {
        params.addBiasParam(BIAS, 1, numClasses);
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        super.initializeParameters(params);
        params.get(BIAS).assign(0);
    }

    @Override
    protected SDVariable[] logits(SameDiff sd, SDVariable x, SDVariable labels, Map<String, SDVariable> p) {
        SDVariable z = x.mmul(p.get(WEIGHT)).add(p.get(BIAS));
        return new SDVariable[]{z, z};
    }
}
