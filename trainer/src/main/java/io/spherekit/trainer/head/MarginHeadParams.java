package io.spherekit.trainer.head;

import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.Map;

/**
 * Parameter layout of a {@link MarginHead}: {@code W} {@code [D, C]} in 'c' order, then the optional extra parameter
 * {@code [1, E]} (A-Softmax λ, softmax bias). Every array is a view of the network's flattened parameter (and
 * gradient) vector.
 */
final class MarginHeadParams implements ParamInitializer {

    static final MarginHeadParams INSTANCE = new MarginHeadParams();

    private MarginHeadParams() {
    }

    private static MarginHead head(Layer layer) {
        if (!(layer instanceof MarginHead h)) {
            throw new IllegalArgumentException("not a MarginHead: " + layer.getClass().getName());
        }
        return h;
    }

    @Override
    public long numParams(NeuralNetConfiguration conf) {
        return numParams(conf.getLayer());
    }

    @Override
    public long numParams(Layer layer) {
        MarginHead h = head(layer);
        return h.getNIn() * h.getNOut() + h.extraParamLength();
    }

    @Override
    public List<String> paramKeys(Layer layer) {
        MarginHead h = head(layer);
        return h.extraParam() == null ? List.of(MarginHead.WEIGHT) : List.of(MarginHead.WEIGHT, h.extraParam());
    }

    @Override
    public List<String> weightKeys(Layer layer) {
        return List.of(MarginHead.WEIGHT);
    }

    @Override
    public List<String> biasKeys(Layer layer) {
        MarginHead h = head(layer);
        return h.extraParam() == null ? List.of() : List.of(h.extraParam());
    }

    @Override
    public boolean isWeightParam(Layer layer, String key) {
        return MarginHead.WEIGHT.equals(key);
    }

    @Override
    public boolean isBiasParam(Layer layer, String key) {
        return key != null && key.equals(head(layer).extraParam());
    }

    @Override
    public Map<String, INDArray> init(NeuralNetConfiguration conf, INDArray paramsView, boolean initializeParams) {
        MarginHead h = head(conf.getLayer());
        Map<String, INDArray> params = views(h, paramsView);
        if (initializeParams) {
            h.initializeParameters(params);
        }
        return params;
    }

    @Override
    public Map<String, INDArray> getGradientsFromFlattened(NeuralNetConfiguration conf, INDArray gradientView) {
        return views(head(conf.getLayer()), gradientView);
    }

    private static Map<String, INDArray> views(MarginHead h, INDArray flat) {
        java.util.LinkedHashMap<String, long[]> shapes = new java.util.LinkedHashMap<>();
        shapes.put(MarginHead.WEIGHT, new long[]{h.getNIn(), h.getNOut()});
        if (h.extraParam() != null) {
            shapes.put(h.extraParam(), new long[]{1, h.extraParamLength()});
        }
        return io.spherekit.trainer.model.NativeLayers.views("head " + h.getLayerName(), flat, shapes);
    }
}
