package io.spherekit.trainer.model;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * DL4J M2.1's {@code SameDiffLayer} runtime with its backward pass corrected.
 *
 * <p>In M2.1, {@code ExternalErrorsFunction.doDiff} both registers the external-gradient placeholder as the
 * gradient of the layer output <i>and</i> returns it, so the autodiff accumulates it twice: every parameter
 * gradient and the input gradient of a (non-output) SameDiff layer come out exactly 2× too large. Chained layers
 * compound this (2^L on the first conv of a SphereFace-4, which then diverges at any sane learning rate).
 * This class halves both. {@code GradientCheckTest} compares against finite differences, so a DL4J version
 * without the bug would fail loudly instead of silently training at half gradient.
 */
final class ExternalErrorsFixLayer extends org.deeplearning4j.nn.layers.samediff.SameDiffLayer {

    ExternalErrorsFixLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        Pair<Gradient, INDArray> p = super.backpropGradient(epsilon, workspaceMgr);
        for (INDArray g : p.getFirst().gradientForVariable().values()) {
            g.muli(0.5);
        }
        p.getSecond().muli(0.5);
        return p;
    }

    /** Instantiates the corrected runtime layer exactly as {@code SameDiffLayer.instantiate} does. */
    static org.deeplearning4j.nn.api.Layer create(SameDiffLayer layerConf, NeuralNetConfiguration conf, int index,
                                                  INDArray paramsView, boolean initializeParams, DataType dt) {
        ExternalErrorsFixLayer ret = new ExternalErrorsFixLayer(conf, dt);
        ret.setIndex(index);
        ret.setParamsViewArray(paramsView);
        Map<String, INDArray> paramTable = layerConf.initializer().init(conf, paramsView, initializeParams);
        ret.setParamTable(paramTable);
        ret.setConf(conf);
        return ret;
    }
}
