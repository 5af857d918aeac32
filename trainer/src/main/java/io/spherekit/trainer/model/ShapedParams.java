package io.spherekit.trainer.model;

import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A DL4J {@link ParamInitializer} defined by a layer's parameter shapes: every parameter is a 'c'-order view of the
 * layer's slice of the flattened vector, in the order of {@link #shapes} ({@link LayerWiring#views}). Parameters
 * that are not weights ({@link #isWeight}) are biases, so DL4J gives them the bias updater and regularisation.
 */
public abstract class ShapedParams implements ParamInitializer {

    /** Parameter name → shape, in storage order. */
    protected abstract LinkedHashMap<String, long[]> shapes(Layer layer);

    /** Whether {@code key} is a weight (else a bias). */
    protected abstract boolean isWeight(String key);

    /** Fills freshly created parameter views with their initial values. */
    protected abstract void initialize(Layer layer, Map<String, INDArray> params);

    @Override
    public long numParams(NeuralNetConfiguration conf) {
        return numParams(conf.getLayer());
    }

    @Override
    public long numParams(Layer layer) {
        long n = 0;
        for (long[] shape : shapes(layer).values()) {
            long p = 1;
            for (long d : shape) {
                p *= d;
            }
            n += p;
        }
        return n;
    }

    @Override
    public List<String> paramKeys(Layer layer) {
        return new ArrayList<>(shapes(layer).keySet());
    }

    @Override
    public List<String> weightKeys(Layer layer) {
        return paramKeys(layer).stream().filter(this::isWeight).toList();
    }

    @Override
    public List<String> biasKeys(Layer layer) {
        return paramKeys(layer).stream().filter(k -> !isWeight(k)).toList();
    }

    @Override
    public boolean isWeightParam(Layer layer, String key) {
        return shapes(layer).containsKey(key) && isWeight(key);
    }

    @Override
    public boolean isBiasParam(Layer layer, String key) {
        return shapes(layer).containsKey(key) && !isWeight(key);
    }

    @Override
    public Map<String, INDArray> init(NeuralNetConfiguration conf, INDArray paramsView, boolean initializeParams) {
        Map<String, INDArray> params = getGradientsFromFlattened(conf, paramsView);
        if (initializeParams) {
            initialize(conf.getLayer(), params);
        }
        return params;
    }

    @Override
    public Map<String, INDArray> getGradientsFromFlattened(NeuralNetConfiguration conf, INDArray flat) {
        return LayerWiring.views(conf.getLayer().getLayerName(), flat, shapes(conf.getLayer()));
    }
}
