package io.spherekit.trainer.model;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * 2-D convolution, NCHW, that calls libnd4j's {@code conv2d} / {@code conv2d_bp} ops directly ({@link SphereConv2DLayer}),
 * so it runs on oneDNN: DL4J M2.1's built-in {@code ConvolutionLayer} never reaches oneDNN and trains ~3× slower here
 * (see shared/notes/FACTS.md). The ops are called without SameDiff: DL4J M2.1 runs SameDiff layers through a
 * per-layer session and doubles their gradients (BENCHMARKS.md). Named apart from DL4J's {@code ConvolutionLayer}
 * and Keras' {@code Conv2D} (which {@link io.spherekit.trainer.keras.KerasImporter} maps onto this class).
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
public class SphereConv2D extends BackboneLayerConfig {

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
    protected SphereConv2D() {
    }

    /**
     * @param nIn      input channels (0 = infer from the input type)
     * @param nOut     output channels, &gt; 0
     * @param kernel   {kH, kW}
     * @param stride   {sH, sW}
     * @param padding  {pH, pW}, symmetric
     * @param init     weight initialisation
     */
    public SphereConv2D(long nIn, long nOut, int[] kernel, int[] stride, int[] padding, Init init) {
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
                    + (v == null ? "null" : Arrays.toString(v)));
        }
    }

    public SphereConv2D withBias(boolean hasBias, boolean frozenBias) {
        this.hasBias = hasBias;
        this.frozenBias = frozenBias;
        return this;
    }

    public SphereConv2D withDilation(int dH, int dW) {
        checkPair("dilation", new int[]{dH, dW}, 1);
        this.dilation = new int[]{dH, dW};
        return this;
    }

    public SphereConv2D withGaussianStd(double std) {
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

    /** Initial values: {@link Init#XAVIER} (Caffe xavier) or {@link Init#GAUSSIAN}; bias 0. */
    void initializeParameters(Map<String, INDArray> params) {
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

    /** libnd4j conv2d / conv2d_bp integer arguments: kernel, stride, padding, dilation, VALID, NCHW, YXIO weights. */
    int[] opArgs() {
        return new int[]{kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1],
                0, 0, 0};
    }

    /** Output spatial size for an input of {@code h × w}. */
    long[] outputSize(long h, long w) {
        return new long[]{outSize(h, 0), outSize(w, 1)};
    }

    @Override
    protected void checkReady() {
        if (nIn <= 0) {
            throw new IllegalStateException("layer " + getLayerName() + ": input channels are not set");
        }
    }

    @Override
    protected BaseLayer<?> createLayer(NeuralNetConfiguration conf, DataType dataType) {
        return new SphereConv2DLayer(conf, dataType);
    }

    @Override
    public ParamInitializer initializer() {
        return Params.INSTANCE;
    }

    @Override
    public LayerMemoryReport getMemoryReport(InputType inputType) {
        InputType out = getOutputType(-1, inputType);
        long params = nOut * nIn * kernel[0] * kernel[1] + (hasBias ? nOut : 0);
        return new LayerMemoryReport.Builder(getLayerName(), SphereConv2D.class, inputType, out)
                .standardMemory(params, 0)
                .workingMemory(0, params, 0, params)
                .cacheMemory(MemoryReport.CACHE_MODE_ALL_ZEROS, MemoryReport.CACHE_MODE_ALL_ZEROS).build();
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

    /** {@code W} {@code [nOut, nIn, kH, kW]} then {@code b} {@code [nOut]}, 'c' order, views of the flat vector. */
    private static final class Params extends ShapedParams {
        static final Params INSTANCE = new Params();

        @Override
        protected LinkedHashMap<String, long[]> shapes(Layer l) {
            SphereConv2D c = (SphereConv2D) l;
            LinkedHashMap<String, long[]> shapes = new LinkedHashMap<>();
            shapes.put(WEIGHT, new long[]{c.nOut, c.nIn, c.kernel[0], c.kernel[1]});
            if (c.hasBias) {
                shapes.put(BIAS, new long[]{c.nOut});
            }
            return shapes;
        }

        @Override
        protected boolean isWeight(String key) {
            return WEIGHT.equals(key);
        }

        @Override
        protected void initialize(Layer l, Map<String, INDArray> params) {
            ((SphereConv2D) l).initializeParameters(params);
        }
    }
}
