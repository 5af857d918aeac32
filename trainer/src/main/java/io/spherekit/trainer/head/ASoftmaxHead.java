package io.spherekit.trainer.head;

import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
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
 * cos(jπ/m), j = 1..m−1, with no acos. At a comparison boundary the step is 1/2 and the sign 0, which gives the
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
    protected void defineExtraParameters(SDLayerParams params) {
        params.addBiasParam(LAMBDA, 1, 1);
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        super.initializeParameters(params);
        params.get(LAMBDA).assign(LambdaSchedule.SPHEREFACE.base());
    }

    /** T_m(c) = cos(m·acos c). */
    static SDVariable chebyshev(SDVariable c, int m) {
        switch (m) {
            case 1: return c;
            case 2: return c.mul(c).mul(2.0).sub(1.0);
            case 3: return c.mul(c).mul(4.0).sub(3.0).mul(c);
            case 4: {
                SDVariable c2 = c.mul(c);
                return c2.mul(c2).mul(8.0).sub(c2.mul(8.0)).add(1.0);
            }
            default: throw new IllegalArgumentException("m must be in 1..4, got " + m);
        }
    }

    @Override
    protected SDVariable[] logits(SameDiff sd, SDVariable x, SDVariable labels, Map<String, SDVariable> p) {
        SDVariable xNorm = norm(sd, x, 1);
        SDVariable cos = cosine(sd, x, p.get(WEIGHT), xNorm);
        SDVariable psi;
        if (m == 1) {
            psi = cos;
        } else {
            // all m−1 threshold comparisons in one broadcast op: d[b,c,j] = cos θ − cos(jπ/m), j = 1..m−1
            double[] t = new double[m - 1];
            for (int j = 1; j < m; j++) {
                t[j - 1] = Math.cos(j * Math.PI / m);
            }
            SDVariable thresholds = sd.constant(Nd4j.create(t, new long[]{1, 1, m - 1}, 'c').castTo(cos.dataType()));
            SDVariable signs = sd.math.sign(sd.expandDims(cos, 2).sub(thresholds)); // zero gradient
            SDVariable k = signs.sum(2).mul(-0.5).add((m - 1) / 2.0);   // k = Σ_j 1[cos θ < t_j]   (½ on a boundary)
            SDVariable minusOneToK = signs.prod(2);                     // (−1)^k                   (0 on a boundary)
            psi = minusOneToK.mul(chebyshev(cos, m)).sub(k.mul(2.0));
        }
        SDVariable lambda = p.get(LAMBDA);
        SDVariable target = psi.sub(cos).div(lambda.add(1.0)); // (λc+ψ)/(1+λ) − c
        return new SDVariable[]{cos.add(labels.mul(target)).mul(xNorm), cos.mul(xNorm)};
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
