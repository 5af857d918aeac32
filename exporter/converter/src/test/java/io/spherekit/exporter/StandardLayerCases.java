package io.spherekit.exporter;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.L2NormalizeVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.graph.ReshapeVertex;
import org.deeplearning4j.nn.conf.graph.ScaleVertex;
import org.deeplearning4j.nn.conf.graph.ShiftVertex;
import org.deeplearning4j.nn.conf.graph.SubsetVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Convolution1DLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Deconvolution2D;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PReLULayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.SpaceToDepthLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.Upsampling2D;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.conf.layers.convolutional.Cropping2D;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationELU;
import org.nd4j.linalg.activations.impl.ActivationGELU;
import org.nd4j.linalg.activations.impl.ActivationRReLU;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationThresholdedReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.ArrayList;
import java.util.List;

/**
 * One small network per mapped layer, vertex and activation (and per attribute variant that changes the mapping:
 * ConvolutionMode.Same with asymmetric pads, Truncate, dilation, stride, bias off, depth multiplier, ...), with an
 * odd 7×9 (H×W) input. Shared by the parity test and the ONNX checker test.
 */
final class StandardLayerCases {
    static final int H = 7;
    static final int W = 9;
    static final int C = 3;
    /** The NCHW input of the CNN cases. */
    static final InputType CNN = InputType.convolutional(H, W, C);
    static final InputType FF = InputType.feedForward(11);
    static final InputType SEQ = InputType.recurrent(3, 11);

    private StandardLayerCases() {
    }

    static ComputationGraphConfiguration.GraphBuilder builder(InputType in) {
        return new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT).updater(new Sgd(0.1))
                .graphBuilder().addInputs("input").setInputTypes(in);
    }

    static ComputationGraph init(ComputationGraphConfiguration conf, long seed) {
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        Parity.randomize(g, seed);
        return g;
    }

    /** The layers as a chain l0, l1, ... from the input; the last one is the output. */
    static Parity.Case chain(String label, InputType in, Layer... layers) {
        return new Parity.Case(label, in, () -> {
            ComputationGraphConfiguration.GraphBuilder b = builder(in);
            String prev = "input";
            for (int i = 0; i < layers.length; i++) {
                b.addLayer("l" + i, layers[i].clone(), prev);
                prev = "l" + i;
            }
            return new Parity.Net(label, init(b.setOutputs(prev).build(), label.hashCode()), in);
        });
    }

    static ConvolutionLayer conv(int k, ConvolutionMode mode, int nOut, IActivation act) {
        return new ConvolutionLayer.Builder(k, k).convolutionMode(mode).nOut(nOut).activation(act).build();
    }

    /** Identity 3x3 Same conv 3 -> 4 channels: values of both signs around ±1 for the element-wise cases. */
    static ConvolutionLayer pre() {
        return conv(3, ConvolutionMode.Same, 4, Activation.IDENTITY.getActivationFunction());
    }

    /** Two conv branches from the input, joined by {@code v}. */
    static Parity.Case joined(String label, InputType cnn, GraphVertex v, int branches) {
        return new Parity.Case(label, cnn, () -> {
            ComputationGraphConfiguration.GraphBuilder b = builder(cnn);
            String[] names = new String[branches];
            for (int i = 0; i < branches; i++) {
                names[i] = "b" + i;
                b.addLayer(names[i], new ConvolutionLayer.Builder(3, 3).convolutionMode(ConvolutionMode.Same).nOut(4)
                        .activation(Activation.IDENTITY).build(), "input");
            }
            b.addVertex("join", v, names);
            return new Parity.Net(label, init(b.setOutputs("join").build(), label.hashCode()), cnn);
        });
    }

    /** A vertex after one conv (CNN) or one dense layer (FF). */
    static Parity.Case after(String label, InputType in, GraphVertex v) {
        return new Parity.Case(label, in, () -> {
            ComputationGraphConfiguration.GraphBuilder b = builder(in);
            Layer first = in instanceof InputType.InputTypeFeedForward
                    ? new DenseLayer.Builder().nOut(6).activation(Activation.IDENTITY).build()
                    : pre();
            b.addLayer("l0", first, "input").addVertex("v", v, "l0");
            return new Parity.Net(label, init(b.setOutputs("v").build(), label.hashCode()), in);
        });
    }

    /** The NCHW cases (labels without a format suffix). */
    private static PReLULayer.Builder prelu(CNN2DFormat f) {
        return f == CNN2DFormat.NHWC ? new PReLULayer.Builder().inputShape(H, W, 4) : new PReLULayer.Builder().inputShape(4, H, W);
    }

    static List<Parity.Case> all() {
        return all(CNN2DFormat.NCHW);
    }

    /**
     * All cases with CNN inputs in {@code format} (DL4J's type propagation gives every CNN layer that format);
     * for NHWC only the CNN-input cases, their labels ending in " [NHWC]".
     */
    static List<Parity.Case> all(CNN2DFormat format) {
        InputType cnn = InputType.convolutional(H, W, C, format);
        List<Parity.Case> cases = new ArrayList<>();
        IActivation id = Activation.IDENTITY.getActivationFunction();
        IActivation relu = Activation.RELU.getActivationFunction();
        // ConvolutionLayer
        cases.add(chain("conv 3x3 truncate pad 1 bias relu", cnn,
                new ConvolutionLayer.Builder(3, 3).padding(1, 1).nOut(5).activation(Activation.RELU).build()));
        cases.add(chain("conv 5x3 stride 2x1 pad 2x1 no bias", cnn,
                new ConvolutionLayer.Builder(5, 3).stride(2, 1).padding(2, 1).hasBias(false).nOut(4).activation(Activation.IDENTITY).build()));
        cases.add(chain("conv 4x4 same stride 2 (asymmetric pads)", cnn,
                new ConvolutionLayer.Builder(4, 4).stride(2, 2).convolutionMode(ConvolutionMode.Same).nOut(4).activation(Activation.TANH).build()));
        cases.add(chain("conv 3x3 same dilation 2", cnn,
                new ConvolutionLayer.Builder(3, 3).dilation(2, 2).convolutionMode(ConvolutionMode.Same).nOut(4).activation(Activation.IDENTITY).build()));
        cases.add(chain("conv 3x3 truncate dilation 2 stride 2", cnn,
                new ConvolutionLayer.Builder(3, 3).dilation(2, 2).stride(2, 2).nOut(4).activation(Activation.IDENTITY).build()));
        // Convolution1DLayer on an NCW sequence of 3 channels x 11 steps
        cases.add(chain("conv1d k3 truncate pad 1 relu", SEQ,
                new Convolution1DLayer.Builder(3).padding(1).nOut(5).activation(Activation.RELU).build()));
        cases.add(chain("conv1d k4 same stride 2", SEQ,
                new Convolution1DLayer.Builder(4).stride(2).convolutionMode(ConvolutionMode.Same).nOut(4).activation(Activation.IDENTITY).build()));
        cases.add(chain("conv1d k3 causal dilation 2 no bias", SEQ,
                new Convolution1DLayer.Builder(3).dilation(2).convolutionMode(ConvolutionMode.Causal).hasBias(false).nOut(4)
                        .activation(Activation.TANH).build()));
        cases.add(chain("conv1d + global max pool over time", SEQ,
                new Convolution1DLayer.Builder(3).nOut(4).activation(Activation.IDENTITY).build(),
                new GlobalPoolingLayer.Builder(PoolingType.MAX).build()));
        // DepthwiseConvolution2D
        cases.add(chain("depthwise 3x3 same multiplier 2", cnn,
                new DepthwiseConvolution2D.Builder(3, 3).depthMultiplier(2).convolutionMode(ConvolutionMode.Same).activation(Activation.IDENTITY).build()));
        cases.add(chain("depthwise 3x3 truncate stride 2 no bias relu", cnn,
                new DepthwiseConvolution2D.Builder(3, 3).stride(2, 2).depthMultiplier(1).hasBias(false).activation(Activation.RELU).build()));
        // SeparableConvolution2D
        cases.add(chain("separable 3x3 same multiplier 2", cnn,
                new SeparableConvolution2D.Builder(3, 3).depthMultiplier(2).convolutionMode(ConvolutionMode.Same).nOut(5).activation(Activation.IDENTITY).build()));
        cases.add(chain("separable 3x3 truncate stride 2 no bias", cnn,
                new SeparableConvolution2D.Builder(3, 3).stride(2, 2).hasBias(false).nOut(4).activation(Activation.SIGMOID).build()));
        // Deconvolution2D
        cases.add(chain("deconv 3x3 stride 2 truncate pad 1", cnn,
                new Deconvolution2D.Builder(3, 3).stride(2, 2).padding(1, 1).nOut(4).activation(Activation.IDENTITY).build()));
        cases.add(chain("deconv 3x3 stride 2 same", cnn,
                new Deconvolution2D.Builder(3, 3).stride(2, 2).convolutionMode(ConvolutionMode.Same).nOut(4).activation(Activation.IDENTITY).build()));
        cases.add(chain("deconv 2x2 stride 2 truncate no bias", cnn,
                new Deconvolution2D.Builder(2, 2).stride(2, 2).hasBias(false).nOut(2).activation(Activation.IDENTITY).build()));
        // SubsamplingLayer
        cases.add(chain("max pool 3x3 stride 2 truncate", cnn,
                new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(3, 3).stride(2, 2).build()));
        cases.add(chain("max pool 2x2 stride 2 same", cnn,
                new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).convolutionMode(ConvolutionMode.Same).build()));
        cases.add(chain("avg pool 3x3 stride 1 pad 1 truncate", cnn,
                new SubsamplingLayer.Builder(PoolingType.AVG).kernelSize(3, 3).stride(1, 1).padding(1, 1).build()));
        cases.add(chain("avg pool 2x2 stride 2 same", cnn,
                new SubsamplingLayer.Builder(PoolingType.AVG).kernelSize(2, 2).stride(2, 2).convolutionMode(ConvolutionMode.Same).build()));
        cases.add(chain("pnorm pool 2x2 p 2", cnn,
                new SubsamplingLayer.Builder(PoolingType.PNORM).kernelSize(2, 2).stride(2, 2).pnorm(2).build()));
        // GlobalPoolingLayer
        for (PoolingType pt : new PoolingType[]{PoolingType.AVG, PoolingType.MAX, PoolingType.SUM, PoolingType.PNORM}) {
            cases.add(chain("global pool " + pt, cnn, new GlobalPoolingLayer.Builder(pt).pnorm(3).build()));
        }
        cases.add(chain("global pool AVG not collapsed", cnn, new GlobalPoolingLayer.Builder(PoolingType.AVG).collapseDimensions(false).build()));
        // BatchNormalization
        cases.add(chain("batchnorm on input (node)", cnn, new BatchNormalization.Builder().eps(1e-3).build()));
        cases.add(chain("batchnorm after conv (folded)", cnn, pre(), new BatchNormalization.Builder().build()));
        cases.add(chain("batchnorm log std after conv (folded)", cnn, pre(), new BatchNormalization.Builder().useLogStd(true).build()));
        cases.add(chain("batchnorm after relu conv (node)", cnn,
                conv(3, ConvolutionMode.Same, 4, relu), new BatchNormalization.Builder().build()));
        cases.add(chain("batchnorm on vectors", FF, new BatchNormalization.Builder().build()));
        // Dense, Output, Loss
        cases.add(chain("dense relu", FF, new DenseLayer.Builder().nOut(6).activation(Activation.RELU).build()));
        cases.add(chain("dense no bias tanh", FF, new DenseLayer.Builder().nOut(5).hasBias(false).activation(Activation.TANH).build()));
        cases.add(chain("conv + flatten + dense (CNN->FF preprocessor)", cnn, pre(),
                new DenseLayer.Builder().nOut(6).activation(Activation.IDENTITY).build()));
        cases.add(chain("output layer softmax", FF,
                new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(5).activation(Activation.SOFTMAX).build()));
        cases.add(chain("loss layer sigmoid", FF, new DenseLayer.Builder().nOut(4).activation(Activation.IDENTITY).build(),
                new LossLayer.Builder(LossFunctions.LossFunction.XENT).activation(Activation.SIGMOID).build()));
        // Activations (after a conv, so values spread past ±1)
        List<IActivation> acts = new ArrayList<>();
        for (Activation a : new Activation[]{Activation.RELU, Activation.RELU6, Activation.LEAKYRELU, Activation.ELU,
                Activation.SELU, Activation.GELU, Activation.SWISH, Activation.MISH, Activation.SIGMOID,
                Activation.HARDSIGMOID, Activation.TANH, Activation.HARDTANH, Activation.SOFTPLUS, Activation.SOFTSIGN,
                Activation.CUBE, Activation.IDENTITY, Activation.THRESHOLDEDRELU, Activation.RATIONALTANH,
                Activation.RECTIFIEDTANH, Activation.RRELU}) {
            acts.add(a.getActivationFunction());
        }
        acts.add(new ActivationLReLU(0.2));
        acts.add(new ActivationELU(0.5));
        acts.add(new ActivationThresholdedReLU(0.3));
        acts.add(new ActivationReLU(0.4, 0.0, 0.0));
        acts.add(new ActivationGELU(true));
        acts.add(new ActivationRReLU(0.05, 0.6));
        acts.add(new ActivationReLU(null, 0.25, null));
        acts.add(new ActivationReLU(null, -0.3, 0.2));
        acts.add(new ActivationReLU(0.7, null, 0.1));
        acts.add(new ActivationReLU(0.9, 0.2, 0.3));
        for (IActivation a : acts) {
            cases.add(chain("activation " + label(a), cnn, pre(), new ActivationLayer.Builder().activation(a).build()));
        }
        cases.add(chain("activation softmax on vectors", FF, new ActivationLayer.Builder().activation(Activation.SOFTMAX).build()));
        // PReLULayer, Dropout, padding, cropping, upsampling, LRN
        cases.add(chain("prelu layer shared axes 2,3", cnn, pre(), prelu(format).sharedAxes(2, 3).build()));
        cases.add(chain("prelu layer unshared", cnn, pre(), prelu(format).build()));
        cases.add(chain("prelu layer on vectors", FF, new PReLULayer.Builder().inputShape(11).build()));
        cases.add(chain("dropout", cnn, pre(), new DropoutLayer.Builder(0.5).build()));
        cases.add(chain("zero padding 1,2,0,3", cnn, new ZeroPaddingLayer.Builder(1, 2, 0, 3).build()));
        cases.add(chain("cropping 1,0,2,1", cnn, new Cropping2D(1, 0, 2, 1)));
        cases.add(chain("upsampling 2x3", cnn, new Upsampling2D.Builder().size(new int[]{2, 3}).build()));
        cases.add(chain("space to depth 2 (after cropping to 6x8)", cnn, new Cropping2D(1, 0, 0, 1),
                new SpaceToDepthLayer.Builder(2, format).build()));
        cases.add(chain("local response normalization", cnn, pre(),
                new LocalResponseNormalization.Builder().k(2).n(3).alpha(0.1).beta(0.75).build()));
        // Vertices
        for (ElementWiseVertex.Op op : ElementWiseVertex.Op.values()) {
            int branches = op == ElementWiseVertex.Op.Subtract ? 2 : 3;
            cases.add(joined("element-wise " + op, cnn, new ElementWiseVertex(op), branches));
        }
        cases.add(joined("merge (concat)", cnn, new MergeVertex(), 2));
        cases.add(after("scale vertex", cnn, new ScaleVertex(2.5)));
        cases.add(after("shift vertex", cnn, new ShiftVertex(-0.3)));
        cases.add(after("l2 normalize vertex (CNN)", cnn, new L2NormalizeVertex()));
        cases.add(after("l2 normalize vertex (vectors)", FF, new L2NormalizeVertex()));
        cases.add(after("subset vertex 1..3", FF, new SubsetVertex(1, 3)));
        cases.add(after("reshape vertex CNN -> [N, 252]", cnn, new ReshapeVertex(-1, 4 * H * W)));
        cases.add(after("preprocessor vertex CNN->FF", cnn, new PreprocessorVertex(new CnnToFeedForwardPreProcessor(H, W, 4, format))));
        if (format == CNN2DFormat.NCHW) {
            return cases;
        }
        // DL4J M2.1's own GlobalPoolingLayer fails on an uncollapsed NHWC map (a reshape to [N, H, 1, 1]).
        return cases.stream().filter(c -> c.input() instanceof InputType.InputTypeConvolutional)
                .filter(c -> !c.label().equals("global pool AVG not collapsed") && !c.label().startsWith("reshape vertex"))
                .map(c -> new Parity.Case(c.label() + " [" + format + "]", c.input(), c.build())).toList();
    }

    /** The activation's name for a case label; a ReLU with parameters names them (its toString does not). */
    static String label(IActivation a) {
        if (a instanceof ActivationReLU r && (r.getMax() != null || r.getThreshold() != null || r.getNegativeSlope() != null)) {
            return "relu(max=" + r.getMax() + ", threshold=" + r.getThreshold() + ", negativeSlope=" + r.getNegativeSlope() + ")";
        }
        return a.toString();
    }
}
