package io.spherekit.exporter;

import ai.onnxruntime.OrtSession;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every mapped DL4J layer, vertex and activation: random weights, an odd 7×9 input, batch 1 and 7, the CNN cases in
 * NCHW and in NHWC (ONNX input and output then NHWC too); ONNX Runtime must match DL4J to 1e-5 relative
 * (max |ORT − DL4J| / max |DL4J|).
 */
class StandardLayerParityTest {
    static final double TOL = 1e-5;

    static List<Parity.Case> cases() {
        List<Parity.Case> all = new ArrayList<>(StandardLayerCases.all());
        all.addAll(StandardLayerCases.all(CNN2DFormat.NHWC));
        return all;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void ortMatchesDl4j(Parity.Case c) throws Exception {
        Parity.Net net = c.build().get();
        Dl4jToOnnx.Conversion conv = net.convert(Dl4jToOnnx.Options.defaults());
        try (OrtSession s = Parity.session(conv.model())) {
            for (int batch : new int[]{1, 7}) {
                Parity.Result r = Parity.compare(net.network(), conv, s, batch, 31L * batch + c.label().length());
                System.out.printf("[parity] %-50s batch %d: max abs %.2e, relative %.2e%n", c.label(), batch,
                        r.maxAbsDiff(), r.relative());
                assertTrue(r.maxAbs() > 1e-3, c.label() + ": degenerate output, max |DL4J| = " + r.maxAbs());
                assertTrue(r.relative() <= TOL, c.label() + " batch " + batch + ": relative difference " + r.relative()
                        + " (max abs " + r.maxAbsDiff() + ")");
            }
        }
    }
}
