package io.spherekit.trainer.head;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A-Softmax (angular softmax) head of SphereFace, Liu et al., CVPR 2017, Eq. 7, with the λ-annealed target logit
 * of wy1iu/sphereface {@code margin_inner_product_layer.cpp}.
 *
 * <pre>
 *   cos θ_j = wⱼ·x / (‖wⱼ‖‖x‖)                         class weights L2-normalised every pass, no bias
 *   ψ(θ)   = (−1)^k cos(mθ) − 2k,   k = ⌊mθ/π⌋           (Eq. 6, monotonically decreasing on [0, π])
 *   f_y    = ‖x‖ · (λ cos θ_y + ψ(θ_y)) / (1 + λ)        target class
 *   f_j    = ‖x‖ · cos θ_j                              other classes
 *   loss   = −Σ_b log softmax(f)_b,y_b
 * </pre>
 * cos(mθ) is the Chebyshev polynomial T_m(cos θ) (m = 1..4), and k and (−1)^k come from comparing cos θ with
 * cos(jπ/m), j = 1..m−1, with no acos, per target row in double precision. At a comparison boundary the step is 1/2 and the sign 0, which gives the
 * exact (continuous) ψ there. ‖x‖ is {@code sqrt(Σx² + 1e-12)}, so x = 0 gives logits 0 and finite gradients.
 * With m = 1, ψ = cos θ and the head is a softmax over normalised class weights scaled by ‖x‖.
 *
 * <p>λ is the parameter {@code lambda} ({@code [1,1]}), updated by the trainer before every iteration from
 * {@link LambdaSchedule}; it has learning rate 0 and no regularisation, so the optimiser never moves it.
 *
 * <p>Input {@code [B, D]}, labels one-hot {@code [B, C]}, activations: softmax probabilities {@code [B, C]}.
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class ASoftmaxHead extends MarginHead {

    public static final String LAMBDA = "lambda";

    private int m = 4;

    protected ASoftmaxHead() {
    }

    /**
     * @param nIn        embedding dimension D (0 = infer)
     * @param numClasses number of identities C, ≥ 2
     * @param m          angular margin, 1..4
     */
    public ASoftmaxHead(long nIn, long numClasses, int m) {
        super(nIn, numClasses);
        if (m < 1 || m > 4) {
            throw new IllegalArgumentException("m must be in 1..4, got " + m);
        }
        this.m = m;
    }

    public int getM() { return m; }

    @Override
    public String headName() { return "asoftmax"; }

    @Override
    public Map<String, String> describe() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("m", Integer.toString(m));
        return d;
    }

    @Override
    public Geometry geometry() { return Geometry.MAGNITUDE; }

    @Override
    protected String extraParam() { return LAMBDA; }

    @Override
    protected long extraParamLength() { return 1; }

    @Override
    protected void initializeParameters(Map<String, INDArray> params) {
        super.initializeParameters(params);
        params.get(LAMBDA).assign(LambdaSchedule.SPHEREFACE.base());
    }

    /**
     * {@code t(c) = (λc + ψ(c)) / (1 + λ)} and {@code t'(c) = (λ + (−1)^k T_m'(c)) / (1 + λ)} with λ read from the
     * {@code lambda} parameter.
     */
    @Override
    public Target target(Map<String, INDArray> params) {
        double lambda = params.get(LAMBDA).getDouble(0);
        double[] thresholds = new double[m - 1];
        for (int j = 1; j < m; j++) {
            thresholds[j - 1] = Math.cos(j * Math.PI / m);
        }
        return (c, out) -> {
            double k = 0;
            double sign = 1;
            for (double t : thresholds) {
                double s = Math.signum(c - t); // 0 on a boundary: k gets ½ and (−1)^k is 0
                k += (1 - s) / 2;
                sign *= s;
            }
            double psi = sign * chebyshev(c, m) - 2 * k;
            double dPsi = sign * chebyshevSlope(c, m);
            out[0] = (lambda * c + psi) / (1 + lambda);
            out[1] = (lambda + dPsi) / (1 + lambda);
        };
    }

    /** T_m(c) = cos(m·acos c), m = 1..4. */
    static double chebyshev(double c, int m) {
        double c2 = c * c;
        return switch (m) {
            case 1 -> c;
            case 2 -> 2 * c2 - 1;
            case 3 -> (4 * c2 - 3) * c;
            case 4 -> 8 * c2 * c2 - 8 * c2 + 1;
            default -> throw new IllegalArgumentException("m must be in 1..4, got " + m);
        };
    }

    /** dT_m/dc. */
    static double chebyshevSlope(double c, int m) {
        double c2 = c * c;
        return switch (m) {
            case 1 -> 1;
            case 2 -> 4 * c;
            case 3 -> 12 * c2 - 3;
            case 4 -> (32 * c2 - 16) * c;
            default -> throw new IllegalArgumentException("m must be in 1..4, got " + m);
        };
    }

    @Override
    public IUpdater getUpdaterByParam(String paramName) {
        return LAMBDA.equals(paramName) ? new Sgd(0.0) : super.getUpdaterByParam(paramName);
    }

    @Override
    public List<Regularization> getRegularizationByParam(String paramName) {
        return LAMBDA.equals(paramName) ? Collections.emptyList() : super.getRegularizationByParam(paramName);
    }
}
