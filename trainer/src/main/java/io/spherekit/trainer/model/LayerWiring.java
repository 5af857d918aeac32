package io.spherekit.trainer.model;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How SphereKit's hand-written DL4J layers (conv, PReLU, margin heads) are connected to DL4J: the runtime layer's
 * configuration and listeners, and its parameter views into the network's flattened parameter vector.
 */
public final class LayerWiring {
    private LayerWiring() {
    }

    /**
     * Connects a runtime layer to its configuration and to its views of the network's flattened parameters, as
     * DL4J's own layer configurations do in {@code instantiate}.
     *
     * @param initializeParams fill the parameters with the configuration's initial values
     * @return {@code layer}
     */
    public static <L extends BaseLayer<?>> L wire(L layer, Layer config,
            NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex, INDArray paramsView,
            boolean initializeParams) {
        layer.setListeners(listeners);
        layer.setIndex(layerIndex);
        layer.setParamsViewArray(paramsView);
        layer.setParamTable(config.initializer().init(conf, paramsView, initializeParams));
        layer.setConf(conf);
        return layer;
    }

    /**
     * Consecutive 'c'-order views of a layer's flattened parameter (or gradient) vector, in the map's order.
     *
     * @param layerName for the error message
     * @param flat      the layer's slice of the network's flattened vector ({@code [1, N]} or {@code [N]})
     * @param shapes    parameter name → shape, in storage order
     * @return parameter name → view, in the same order
     * @throws IllegalStateException naming the layer if {@code flat} does not hold exactly the parameters' total length
     */
    public static Map<String, INDArray> views(String layerName, INDArray flat, LinkedHashMap<String, long[]> shapes) {
        long total = 0;
        for (long[] shape : shapes.values()) {
            total += Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        }
        if (flat.length() != total) {
            throw new IllegalStateException("layer " + layerName + ": expected " + total + " parameters "
                    + describe(shapes) + ", got " + flat.length());
        }
        INDArray v = flat.reshape(flat.length());
        Map<String, INDArray> out = new LinkedHashMap<>();
        long from = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long n = Arrays.stream(e.getValue()).reduce(1, (a, b) -> a * b);
            out.put(e.getKey(), v.get(NDArrayIndex.interval(from, from + n))
                    .reshape('c', e.getValue()));
            from += n;
        }
        return out;
    }

    private static String describe(Map<String, long[]> shapes) {
        StringBuilder b = new StringBuilder("(");
        shapes.forEach((k, v) -> b.append(b.length() > 1 ? ", " : "").append(k).append(Arrays.toString(v)));
        return b.append(")").toString();
    }
}
