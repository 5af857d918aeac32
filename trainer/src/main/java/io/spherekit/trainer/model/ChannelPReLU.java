package io.spherekit.trainer.model;

import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Per-channel PReLU (He et al., ICCV 2015, Eq. 1): {@code f(x) = max(0,x) + a_c · min(0,x)}, one learnt slope per channel.
 *
 * <p>Parameter {@code alpha} of shape {@code [1, C, 1, 1]}, initialised to 0.25 (Caffe's PReLU default, used by
 * wy1iu/sphereface). It is a weight parameter: global updater and L2 decay, as Caffe's default {@code decay_mult: 1}.
 * Exported to ONNX as {@code Relu} + two depthwise 1×1 {@code Conv} + {@code Add} (the default), or as one {@code PRelu}
 * with slope {@code [C,1,1]} ({@code export-model --prelu prelu}). Input and output are {@code [N, C, H, W]}.
 *
 * <p>Forward and backward are hand-written ND4J ({@link ChannelPReLULayer}). This replaces DL4J's {@code PReLULayer},
 * whose backward pass fails on real feature maps (libnd4j prelu_bp requires input length / alpha length ≤ 64;
 * shared/notes/FACTS.md), and an earlier SameDiff version whose broadcast-multiply backward went through libnd4j's
 * generic {@code tile} path (BENCHMARKS.md).
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class ChannelPReLU extends BackboneLayerConfig {

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
    protected void checkReady() {
        if (nChannels <= 0) {
            throw new IllegalStateException("layer " + getLayerName() + ": number of channels is not set");
        }
    }

    @Override
    protected BaseLayer<?> createLayer(NeuralNetConfiguration conf, DataType dataType) {
        return new ChannelPReLULayer(conf, dataType);
    }

    @Override
    public ParamInitializer initializer() {
        return Params.INSTANCE;
    }

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
    public LayerMemoryReport getMemoryReport(InputType inputType) {
        return new LayerMemoryReport.Builder(getLayerName(), ChannelPReLU.class, inputType, inputType)
                .standardMemory(nChannels, 0)
                .workingMemory(0, 0, 0, 2 * inputType.arrayElementsPerExample())
                .cacheMemory(MemoryReport.CACHE_MODE_ALL_ZEROS, MemoryReport.CACHE_MODE_ALL_ZEROS).build();
    }

    /** {@code alpha} {@code [1, C, 1, 1]} as a view of the flattened parameters. */
    private static final class Params extends ShapedParams {
        static final Params INSTANCE = new Params();

        @Override
        protected LinkedHashMap<String, long[]> shapes(Layer l) {
            LinkedHashMap<String, long[]> shapes = new LinkedHashMap<>();
            shapes.put(ALPHA, new long[]{1, ((ChannelPReLU) l).nChannels, 1, 1});
            return shapes;
        }

        @Override
        protected boolean isWeight(String key) {
            return true;
        }

        @Override
        protected void initialize(Layer l, Map<String, INDArray> params) {
            params.get(ALPHA).assign(((ChannelPReLU) l).initialSlope);
        }
    }
}
