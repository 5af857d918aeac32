package io.spherekit.exporter.quant;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Each range method against values worked out by hand on small inputs. */
class ThresholdsTest {

    /**
     * |x| histogram {8, 2, 1, 1} over [0, 4) (bin width 1), quantised to 2 levels. Candidates (kept bins i = 2, 3, 4):
     * <pre>
     * i=2: P = {8, 2+1+1}          Q = {8, 2}             KL = 2/3 ln((2/3)/0.8) + 1/3 ln((1/3)/0.2)   = 0.04873
     * i=3: P = {8, 2, 1+1}         Q = {8, 3/2, 3/2}      KL = 2/3 ln((2/3)/(8/11)) + 2·1/6 ln((1/6)/(1.5/11)) = 0.00888
     * i=4: P = {8, 2, 1, 1}        Q = {5, 5, 1, 1}       KL = 8/12 ln(8/5) + 2/12 ln(2/5)             = 0.16062
     * </pre>
     * (levels of i=3: bins [0,1) and [1,3); of i=4: [0,2) and [2,4)). The minimum is i = 3: threshold 3.0.
     */
    @Test
    void entropyPicksTheHandComputedMinimum() {
        Histogram h = Histogram.of(4.0, 8, 2, 1, 1);
        long[] c = h.counts();
        double[] p = new double[4];
        double[] q = new double[4];
        assertEquals(0.0487275, Thresholds.divergence(c, 2, 2, 2, p, q), 1e-6);
        assertEquals(0.0088826, Thresholds.divergence(c, 3, 2, 1, p, q), 1e-6);
        assertEquals(0.1606206, Thresholds.divergence(c, 4, 2, 0, p, q), 1e-6);
        assertEquals(3.0, Thresholds.entropy(h, 2), 1e-12);
    }

    /**
     * 128 ones in bins [0, 128) of 2048 over [0, 2048) and nothing else: at i = 128 Q equals P (one bin per level), KL 0,
     * and every larger i ties at 0 (its extra bins are empty), so the smallest, 128, wins: threshold 128. One value in
     * the last bin instead makes the full range (i = 2048, where the last level holds only that bin, Q = P) the only
     * candidate with KL 0: threshold 2048.
     */
    @Test
    void entropyOn2048BinsKeepsTheOccupiedRange() {
        long[] c = new long[Histogram.BINS];
        for (int i = 0; i < 128; i++) {
            c[i] = 1;
        }
        assertEquals(128.0, Thresholds.entropy(Histogram.of(2048, c), Thresholds.ENTROPY_LEVELS), 1e-9);
        c[2047] = 1;
        assertEquals(2048.0, Thresholds.entropy(Histogram.of(2048, c), Thresholds.ENTROPY_LEVELS), 1e-9);
    }

    /**
     * The zero-spike adjustment the calibrator applies before the entropy search: {8, 2, 1, 1} becomes {2, 2, 1, 1}, for
     * which i=4 (levels [0,2) and [2,4)) gives Q = {2, 2, 1, 1} = P, KL 0, while i=2 (P {2, 4}, Q {2, 2}) and i=3
     * (P {2, 2, 2}, Q {2, 1.5, 1.5}) diverge (0.0566, 0.0095; by hand as above): threshold 4.
     */
    @Test
    void zeroSpikeAdjustmentThenEntropy() {
        Histogram h = Histogram.of(4.0, 8, 2, 1, 1).withoutZeroSpike();
        assertArrayEquals(new long[]{2, 2, 1, 1}, h.counts());
        double[] p = new double[4];
        double[] q = new double[4];
        assertEquals(0.0566330, Thresholds.divergence(h.counts(), 2, 2, 2, p, q), 1e-6);
        assertEquals(0.0094665, Thresholds.divergence(h.counts(), 3, 2, 1, p, q), 1e-6);
        assertEquals(4.0, Thresholds.entropy(h, 2), 1e-12);
    }

    /** {8, 2, 1, 1}: cumulative 8, 10, 11, 12 of 12 = 66.7 %, 83.3 %, 91.7 %, 100 %. */
    @Test
    void percentileIsTheUpperEdgeOfTheBinReachingIt() {
        Histogram h = Histogram.of(4.0, 8, 2, 1, 1);
        assertEquals(1.0, Thresholds.percentile(h, 50), 1e-12);
        assertEquals(2.0, Thresholds.percentile(h, 75), 1e-12);
        assertEquals(3.0, Thresholds.percentile(h, 90), 1e-12);
        assertEquals(4.0, Thresholds.percentile(h, 99.99), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Thresholds.percentile(h, 0));
        assertArrayEquals(new float[]{-1.5f, 2f}, Thresholds.clip(-1.5f, 7f, 2.0));
    }

    @Test
    void histogramBinsAbsoluteValues() {
        Histogram h = new Histogram(4, 2.0);
        h.add(FloatBuffer.wrap(new float[]{0f, -0.4f, 0.6f, -1.2f, 1.9f, 5f}));
        assertArrayEquals(new long[]{2, 1, 1, 2}, h.counts());
    }

    /**
     * Min-max through ONNX Runtime on a 1x1 Conv with weights {1, 2, -1} and bias 0.5 over three channels of a 1x1 image:
     * inputs (1, 1, 1) and (-2, 0, 3) give conv outputs 1+2-1+0.5 = 2.5 and -2+0-3+0.5 = -4.5. The input range is
     * [-2, 3], the output's [-4.5, 2.5].
     */
    @Test
    void minMaxCalibrationRecordsTheObservedRangeOfEveryTensor() throws Exception {
        ModelProto m = tinyConv();
        List<String> tensors = QdqQuantizer.tensorsToCalibrate(m);
        assertEquals(List.of("x", "y_hidden"), tensors);
        Calibrator.Result r = Calibrator.calibrate(m, tensors,
                List.of(new float[]{1, 1, 1}, new float[]{-2, 0, 3}), new long[]{3, 1, 1}, CalibrationMethod.MINMAX, 99.99);
        assertEquals(new QdqQuantizer.Range(-2f, 3f), r.ranges().get("x"));
        assertEquals(new QdqQuantizer.Range(-4.5f, 2.5f), r.ranges().get("y_hidden"));
        // uint8: scale (3 - -2)/255, zero point round(2 / scale) = round(102) = 102
        QdqQuantizer.Params p = QdqQuantizer.params(r.ranges().get("x"), QdqQuantizer.ActivationType.UINT8);
        assertEquals(5f / 255, p.scale(), 1e-7);
        assertEquals(102, p.zeroPoint());
    }

    /** x [N,3,1,1] -> Conv(W [1,3,1,1] = {1,2,-1}, B = {0.5}) -> y_hidden -> Relu -> y. */
    static ModelProto tinyConv() {
        OnnxMl.GraphProto g = OnnxMl.GraphProto.newBuilder().setName("tiny")
                .addInput(valueInfo("x", "N", 3, 1, 1))
                .addOutput(valueInfo("y", "N", 1, 1, 1))
                .addInitializer(floats("W", new long[]{1, 3, 1, 1}, 1, 2, -1))
                .addInitializer(floats("B", new long[]{1}, 0.5f))
                .addNode(OnnxMl.NodeProto.newBuilder().setOpType("Conv").setName("conv").addInput("x").addInput("W")
                        .addInput("B").addOutput("y_hidden"))
                .addNode(OnnxMl.NodeProto.newBuilder().setOpType("Relu").setName("relu").addInput("y_hidden").addOutput("y"))
                .build();
        return ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setVersion(17))
                .setGraph(g).build();
    }

    private static OnnxMl.ValueInfoProto valueInfo(String name, String batch, long... dims) {
        OnnxMl.TensorShapeProto.Builder s = OnnxMl.TensorShapeProto.newBuilder()
                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam(batch));
        for (long d : dims) {
            s.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(OnnxMl.TypeProto.newBuilder().setTensorType(
                OnnxMl.TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(s))).build();
    }

    private static TensorProto floats(String name, long[] dims, float... v) {
        return QdqQuantizer.floatTensor(name, v, dims);
    }
}
