package io.spherekit.trainer.head;

import io.spherekit.trainer.model.ShapedParams;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Parameter layout of a {@link MarginHead}: {@code W} {@code [D, C]} in 'c' order, then the optional extra parameter
 * {@code [1, E]} (A-Softmax λ, softmax bias). Every array is a view of the network's flattened parameter (and
 * gradient) vector.
 */
final class MarginHeadParams extends ShapedParams {

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
    protected LinkedHashMap<String, long[]> shapes(Layer layer) {
        MarginHead h = head(layer);
        LinkedHashMap<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put(MarginHead.WEIGHT, new long[]{h.getNIn(), h.getNOut()});
        if (h.extraParam() != null) {
            shapes.put(h.extraParam(), new long[]{1, h.extraParamLength()});
        }
        return shapes;
    }

    @Override
    protected boolean isWeight(String key) {
        return MarginHead.WEIGHT.equals(key);
    }

    @Override
    protected void initialize(Layer layer, Map<String, INDArray> params) {
        head(layer).initializeParameters(params);
    }
}
