package io.spherekit.trainer.model;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;

import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * 2-D convolution, NCHW, written as a DL4J {@link org.deeplearning4j.nn.conf.layers.samediff.SameDiffLayer} so that it runs on oneDNN
 * ({@code sd.cnn.conv2d}); DL4J M2.1's built-in {@code ConvolutionLayer} never reaches oneDNN and trains ~3× slower
 * here (see shared/notes/FACTS.md).
 *
 * <p>Parameters: {@code W} of shape {@code [nOut, nIn, kH, kW]} (ONNX Conv layout, OIHW) and, when
 * {@code hasBias}, {@code b} of shape {@code [nOut]}.
 * Input {@code [N, nIn, H, W]} → output {@code [N, nOut, H', W']} with
 * {@code H' = floor((H + 2·pH − dH·(kH−1) − 1) / sH) + 1}.
 *
 * <p>Init follows wy1iu/sphereface {@code sphereface_model.prototxt}: {@link Init#XAVIER} (Caffe xavier) for the
 * stride-2 stage convs, {@link Init#GAUSSIAN} with std 0.01 for the convs inside residual units, biases 0.
 * With {@code frozenBias} the bias gets learning rate 0 and no regularisation (prototxt {@code lr_mult: 0}).
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class SdConv2D extends FixedSameDiffLayer {

    /** Weight initialisation of a conv layer. */
    public enum Init { XAVIER, GAUSSIAN }

    public static final String WEIGHT = "W";
    public static final String BIAS = "b";

    private long nIn;
    private long nOut;
    private int[] kernel = {3, 3};
    private int[] stride = {1, 1};
    private int[] padding = {1, 1};
    private int[] dilation = {1, 1};
    private boolean hasBias = true;
    private boolean frozenBias;
    private Init init = Init.XAVIER;
    private double gaussianStd = 0.01;

    /** For Jackson. */
    protected SdConv2D() {
    }

    /**
     * @param nIn      input channels (0 = infer from the input type)
     * @param nOut     output channels, &gt; 0
     * @param kernel   {kH, kW}
     * @param stride   {sH, sW}
     * @param padding  {pH, pW}, symmetric
     * @param init     weight initialisation
     */
    public SdConv2D(long nIn, long nOut, int[] kernel, int[] stride, int[] padding, Init init) {
        if (nOut <= 0) {
            throw new IllegalArgumentException("nOut must be > 0, got " + nOut);
        }
        checkPair("kernel", kernel, 1);
        checkPair("stride", stride, 1);
        checkPair("padding", padding, 0);
        this.nIn = nIn;
        this.nOut = nOut;
        this.kernel = kernel.clone();
        this.stride = stride.clone();
        this.padding = padding.clone();
        this.init = init;
    }

    private static void checkPair(String name, int[] v, int min) {
        if (v == null || v.length != 2 || v[0] < min || v[1] < min) {
            throw new IllegalArgumentException(name + " must be two ints >= " + min + ", got "
                    + (v == null ? "null" : java.util.Arrays.toString(v)));
        }
    }

    public SdConv2D withBias(boolean hasBias, boolean frozenBias) {
        this.hasBias = hasBias;
        this.frozenBias = frozenBias;
        return this;
    }

    public SdConv2D withDilation(int dH, int dW) {
        checkPair("dilation", new int[]{dH, dW}, 1);
        this.dilation = new int[]{dH, dW};
        return this;
    }

    public SdConv2D withGaussianStd(double std) {
        this.gaussianStd = std;
        return this;
    }

    public long getNIn() { return nIn; }
    public long getNOut() { return nOut; }
    public int[] getKernel() { return kernel.clone(); }
    public int[] getStride() { return stride.clone(); }
    public int[] getPadding() { return padding.clone(); }
    public int[] getDilation() { return dilation.clone(); }
    public boolean isHasBias() { return hasBias; }
    public boolean isFrozenBias() { return frozenBias; }
    public Init getInit() { return init; }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        InputType.InputTypeConvolutional in = convInput(inputType);
        long h = outSize(in.getHeight(), 0);
        long w = outSize(in.getWidth(), 1);
        if (h < 1 || w < 1) {
            throw new IllegalStateException("layer " + getLayerName() + ": input " + in.getHeight() + "x"
                    + in.getWidth() + " too small for kernel/stride/padding");
        }
        return InputType.convolutional(h, w, nOut);
    }

    private long outSize(long in, int axis) {
        return (in + 2L * padding[axis] - (long) dilation[axis] * (kernel[axis] - 1) - 1) / stride[axis] + 1;
    }

    private InputType.InputTypeConvolutional convInput(InputType t) {
        if (!(t instanceof InputType.InputTypeConvolutional c)) {
            throw new IllegalStateException("layer " + getLayerName() + " expects a convolutional input, got " + t);
        }
        return c;
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        if (nIn <= 0 || override) {
            nIn = convInput(inputType).getChannels();
        }
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.clear();
        params.addWeightParam(WEIGHT, nOut, nIn, kernel[0], kernel[1]);
        if (hasBias) {
            params.addBiasParam(BIAS, nOut);
        }
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        INDArray w = params.get(WEIGHT);
        if (init == Init.XAVIER) {
            CaffeFillers.xavier(w, nIn * kernel[0] * kernel[1]);
        } else {
            CaffeFillers.gaussian(w, gaussianStd);
        }
        if (hasBias) {
            params.get(BIAS).assign(0);
        }
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> p, SDVariable mask) {
        Conv2DConfig c = Conv2DConfig.builder()
                .kH(kernel[0]).kW(kernel[1])
                .sH(stride[0]).sW(stride[1])
                .pH(padding[0]).pW(padding[1])
                .dH(dilation[0]).dW(dilation[1])
                .paddingMode(PaddingMode.VALID)
                .dataFormat(Conv2DConfig.NCHW)
                .weightsFormat(WeightsFormat.YXIO)
                .build();
        // The parameter is stored OIHW (the ONNX layout); libnd4j's conv2d_bp in M2.1 fails validation with OIYX
        // weights, so the graph permutes to YXIO [kH, kW, nIn, nOut] (a small copy of the weights only).
        SDVariable w = p.get(WEIGHT).permute(2, 3, 1, 0);
        return hasBias ? sd.cnn.conv2d(input, w, p.get(BIAS), c) : sd.cnn.conv2d(input, w, c);
    }

    @Override
    public IUpdater getUpdaterByParam(String paramName) {
        if (frozenBias && BIAS.equals(paramName)) {
            return new Sgd(0.0);
        }
        return super.getUpdaterByParam(paramName);
    }

    @Override
    public List<Regularization> getRegularizationByParam(String paramName) {
        if (frozenBias && BIAS.equals(paramName)) {
            return Collections.emptyList();
        }
        return super.getRegularizationByParam(paramName);
    }
}
