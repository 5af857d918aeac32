package io.spherekit.trainer.model;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * Runtime layer of {@link SphereConv2D}: libnd4j's {@code conv2d} forward and {@code conv2d_bp} backward ops (oneDNN
 * kernels on the {@code onednn} backend), called directly on NCHW arrays. The parameter is stored OIHW (ONNX
 * layout); libnd4j M2.1's {@code conv2d_bp} rejects OIHW weights, so each pass copies the (small) weight tensor to
 * YXIO {@code [kH, kW, nIn, nOut]} and the weight gradient back. Outputs go to DL4J's activation / activation-gradient
 * workspaces and the copies to its working-memory workspace.
 */
public class SphereConv2DLayer extends BaseLayer<SphereConv2D> {

    public SphereConv2DLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    private INDArray checkedInput(DataType type) {
        SphereConv2D c = layerConf();
        if (input.rank() != 4 || input.size(1) != c.getNIn()) {
            throw new IllegalArgumentException("layer " + layerId() + ": expected input [N, " + c.getNIn()
                    + ", H, W], got " + Arrays.toString(input.shape()));
        }
        return input.dataType() == type ? input : input.castTo(type);
    }

    /** OIHW → YXIO copy of the weights in the given working-memory workspace. */
    private INDArray weightsYxio(LayerWorkspaceMgr mgr, ArrayType type) {
        INDArray w = getParam(SphereConv2D.WEIGHT);
        INDArray out = mgr.createUninitialized(type, w.dataType(),
                new long[]{w.size(2), w.size(3), w.size(1), w.size(0)}, 'c');
        return out.assign(w.permute(2, 3, 1, 0));
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(false);
        SphereConv2D c = layerConf();
        INDArray w = weightsYxio(workspaceMgr, ArrayType.FF_WORKING_MEM);
        INDArray x = checkedInput(w.dataType());
        long[] hw = c.outputSize(x.size(2), x.size(3));
        INDArray y = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, w.dataType(),
                new long[]{x.size(0), c.getNOut(), hw[0], hw[1]}, 'c');
        INDArray[] in = c.isHasBias() ? new INDArray[]{x, w, getParam(SphereConv2D.BIAS)} : new INDArray[]{x, w};
        Nd4j.exec(DynamicCustomOp.builder("conv2d").addInputs(in).addOutputs(y)
                .addIntegerArguments(c.opArgs()).build());
        return y;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        SphereConv2D c = layerConf();
        INDArray w = weightsYxio(workspaceMgr, ArrayType.BP_WORKING_MEM);
        INDArray x = checkedInput(w.dataType());
        INDArray g = epsilon.dataType() == w.dataType() ? epsilon : epsilon.castTo(w.dataType());
        INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, w.dataType(), x.shape(), 'c');
        INDArray dw = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, w.dataType(), w.shape(), 'c');
        Gradient grad = new DefaultGradient(gradientsFlattened);
        INDArray gradW = gradientViews.get(SphereConv2D.WEIGHT);
        grad.gradientForVariable().put(SphereConv2D.WEIGHT, gradW);
        INDArray[] in;
        INDArray[] out;
        if (c.isHasBias()) {
            INDArray gradB = gradientViews.get(SphereConv2D.BIAS);
            in = new INDArray[]{x, w, getParam(SphereConv2D.BIAS), g};
            out = new INDArray[]{dx, dw, gradB};
            grad.gradientForVariable().put(SphereConv2D.BIAS, gradB);
        } else {
            in = new INDArray[]{x, w, g};
            out = new INDArray[]{dx, dw};
        }
        Nd4j.exec(DynamicCustomOp.builder("conv2d_bp").addInputs(in).addOutputs(out)
                .addIntegerArguments(c.opArgs()).build());
        gradW.assign(dw.permute(3, 2, 0, 1));
        return new Pair<>(grad, dx);
    }

    @Override
    public boolean isPretrainLayer() {
        return false;
    }

    @Override
    public boolean hasBias() {
        return layerConf().isHasBias();
    }
}
