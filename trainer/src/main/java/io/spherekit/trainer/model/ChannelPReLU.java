package io.spherekit.trainer.model;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;

import java.util.Map;

/**
 * Per-channel PReLU (He et al., ICCV 2015, Eq. 1): {@code f(x) = max(0,x) + a_c · min(0,x)}, one learnt slope per channel.
 *
 * <p>Parameter {@code alpha} of shape {@code [1, C, 1, 1]}, initialised to 0.25 (Caffe's PReLU default, used by
 * wy1iu/sphereface). Exported to ONNX as {@code PRelu} with slope {@code [C,1,1]}. Input and output are
 * {@code [N, C, H, W]}.
 *
 * <p>This replaces DL4J's {@code PReLULayer}, whose backward pass fails on real feature maps (libnd4j prelu_bp
 * requires input length / alpha length ≤ 64; shared/notes/FACTS.md).
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class ChannelPReLU extends FixedSameDiffLayer {

    public static final String ALPHA = "alpha";

    private long nChannels;
    private double initialSlope = 0.25;

    /** For Jackson. */
    protected ChannelPReLU() {
    }

    /** @param nChannels channels C (0 = infer from the input type) */
    public ChannelPReLU(long nChannels) {
        this.nChannels = nChannels;
    }

    public long getNChannels() { return nChannels; }
    public double getInitialSlope() { return initialSlope; }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        return inputType;
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        if (!(inputType instanceof InputType.InputTypeConvolutional c)) {
            throw new IllegalStateException("layer " + getLayerName() + " expects a convolutional input, got " + inputType);
        }
        if (nChannels <= 0 || override) {
            nChannels = c.getChannels();
        }
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.clear();
        params.addWeightParam(ALPHA, 1, nChannels, 1, 1);
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        params.get(ALPHA).assign(initialSlope);
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable x, Map<String, SDVariable> p, SDVariable mask) {
        SDVariable pos = sd.nn.relu(x, 0.0);
        return pos.add(p.get(ALPHA).mul(x.sub(pos)));
    }
}
