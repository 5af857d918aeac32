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
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.SubOp;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * Runtime layer of {@link ChannelPReLU}, in plain ND4J ops on {@code [N, C, H, W]}:
 * <pre>
 *   forward:   y = x ∘ (s + a_c (1 − s)),  s = 1[x &gt; 0]
 *   backward:  g⁺ = g ∘ s,  g⁻ = g − g⁺,  ∂L/∂x = g⁺ + a_c g⁻,  ∂L/∂a_c = Σ_{n,h,w} g⁻ ∘ x
 * </pre>
 * (PReLU's derivative at x = 0 is taken as a_c, as Caffe's {@code prelu_layer.cpp}.) Outputs go to DL4J's
 * activation / activation-gradient workspaces and temporaries to its working-memory workspace, so nothing is
 * allocated fresh per iteration.
 */
public class ChannelPReLULayer extends BaseLayer<ChannelPReLU> {

    public ChannelPReLULayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    private INDArray slopes(DataType type) {
        INDArray a = getParam(ChannelPReLU.ALPHA);
        INDArray v = a.reshape(a.length());
        return v.dataType() == type ? v : v.castTo(type);
    }

    private INDArray checkedInput() {
        if (input.rank() != 4 || input.size(1) != layerConf().getNChannels()) {
            throw new IllegalArgumentException("layer " + layerId() + ": expected input [N, "
                    + layerConf().getNChannels() + ", H, W], got " + Arrays.toString(input.shape()));
        }
        return input;
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(false);
        INDArray x = checkedInput();
        INDArray a = slopes(x.dataType());
        INDArray y = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, x.dataType(), x.shape(), 'c');
        INDArray s = workspaceMgr.createUninitialized(ArrayType.FF_WORKING_MEM, x.dataType(), x.shape(), 'c');
        // y = a∘x + (1 − a)∘(x∘s)
        Nd4j.getExecutioner().exec(new Step(x, s, 0.0));
        s.muli(x);                                                     // x⁺ = x∘s
        Nd4j.getExecutioner().exec(new BroadcastMulOp(x, a, y, 1));    // a∘x
        Nd4j.getExecutioner().exec(new BroadcastMulOp(s, a.rsub(1.0), s, 1));
        return y.addi(s);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        INDArray x = checkedInput();
        INDArray g = epsilon.dataType() == x.dataType() ? epsilon : epsilon.castTo(x.dataType());
        INDArray a = slopes(x.dataType());
        INDArray pos = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, x.dataType(), x.shape(), 'c');
        INDArray neg = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, x.dataType(), x.shape(), 'c');
        INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, x.dataType(), x.shape(), 'c');
        Nd4j.getExecutioner().exec(new Step(x, pos, 0.0));
        pos.muli(g);                                                   // g⁺
        Nd4j.getExecutioner().exec(new SubOp(g, pos, neg));            // g⁻
        Nd4j.getExecutioner().exec(new BroadcastMulOp(neg, a, dx, 1)); // a∘g⁻
        dx.addi(pos);
        Nd4j.getExecutioner().exec(new MulOp(neg, x, pos));            // g⁻∘x
        INDArray gradAlpha = gradientViews.get(ChannelPReLU.ALPHA);
        INDArray perChannel = pos.sum(2, 3).sum(0);                    // contiguous H·W sums first
        gradAlpha.assign(perChannel.reshape(gradAlpha.shape()));
        Gradient grad = new DefaultGradient(gradientsFlattened);
        grad.gradientForVariable().put(ChannelPReLU.ALPHA, gradAlpha);
        return new Pair<>(grad, dx);
    }

    @Override
    public boolean isPretrainLayer() {
        return false;
    }

    @Override
    public boolean hasBias() {
        return false;
    }
}
