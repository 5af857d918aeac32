package io.spherekit.keras;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Arrays;
import java.util.List;

/**
 * One layer of a Keras model: its name, class ({@code class_name}, e.g. {@code Conv2D}), its {@code config} object
 * and its variables in Keras' creation order (e.g. kernel, bias).
 */
public record KerasLayer(String name, String className, JsonNode config, List<KerasFile.Tensor> weights) {

    /** "'name' (Class)", for messages. */
    public String describe() {
        return "'" + name + "' (" + className + ")";
    }

    /** The i-th variable; fails naming the layer if it is missing. */
    KerasFile.Tensor weight(int i, String what) {
        if (i >= weights.size()) {
            throw new KerasException("layer " + describe() + " has " + weights.size() + " weight(s); its " + what
                    + " (variable " + i + ") is missing");
        }
        return weights.get(i);
    }

    boolean bool(String key, boolean dflt) {
        JsonNode n = config.get(key);
        return n == null || n.isNull() ? dflt : n.asBoolean();
    }

    double number(String key, double dflt) {
        JsonNode n = config.get(key);
        return n == null || n.isNull() ? dflt : n.asDouble();
    }

    String text(String key, String dflt) {
        JsonNode n = config.get(key);
        return n == null || n.isNull() ? dflt : n.asText();
    }

    /** An int or an int list, expanded to {@code n} values. */
    int[] ints(String key, int n, int dflt) {
        JsonNode v = config.get(key);
        int[] out = new int[n];
        if (v == null || v.isNull()) {
            Arrays.fill(out, dflt);
        } else if (v.isNumber()) {
            Arrays.fill(out, v.asInt());
        } else {
            if (v.size() != n) {
                throw new KerasException("layer " + describe() + ": '" + key + "' has " + v.size() + " values, expected " + n);
            }
            for (int i = 0; i < n; i++) {
                out[i] = v.get(i).asInt();
            }
        }
        return out;
    }
}
