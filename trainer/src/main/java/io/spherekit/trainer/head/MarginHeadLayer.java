package io.spherekit.trainer.head;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseOutputLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastDivOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * Runtime layer of every {@link MarginHead}: forward and backward written by hand in ND4J.
 *
 * <p>With {@code U} the features ({@code x}, or {@code x/‖x‖} for {@link MarginHead.Geometry#SCALED}),
 * {@code n_j = ‖w_j‖} and {@code P = U W} ({@code [B, C]}), the non-target logits are {@code σ P_bj / n_j}
 * ({@code σ} = 1 or {@code s}). For the B target entries the head's transform {@code t(c)} of
 * {@code c = cos θ_y} replaces the logit. With {@code G = softmax(f) − Y}, the backward pass is
 * <pre>
 *   H_bj = σ G_bj / n_j  (non-target),   H_by = α_b / n_y,   α_b = G_by·t'(c_b)·(σ for SCALED)
 *   ∂L/∂W = Uᵀ H − W diag(Σ_b P_bj H_bj / n_j²)                  (chain rule through w_j / ‖w_j‖)
 *   ∂L/∂U = H Wᵀ,   plus β_b x_b with β_b = G_by (t − c t') / ‖x_b‖ for MAGNITUDE (the ‖x‖ factor of f_y)
 *   ∂L/∂x = (∂L/∂U − U (U·∂L/∂U)) / ‖x‖  for SCALED (chain rule through x / ‖x‖)
 * </pre>
 * So a margin head costs the three GEMMs of a softmax layer plus a few element-wise passes; the column-norm chain
 * rule uses the {@code [B, C]} product {@code P} instead of a {@code [D, C]} normalised copy of {@code W}.
 * Norms are {@code sqrt(Σv² + 1e-12)}. The per-row target arithmetic runs in double precision.
 *
 * <p>DL4J calls {@link #backpropGradient} and then {@link #computeScore} on the same input; the loss of the
 * backward pass is kept for that one call, so the forward pass is not run twice.
 */
public class MarginHeadLayer extends BaseOutputLayer<MarginHead> {

    private double regTerm;
    private double labelSmoothing;
    private double pendingLoss = Double.NaN;
    private INDArray pendingInput;
    private INDArray pendingLabels;

    public MarginHeadLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    /**
     * Label smoothing (Szegedy et al., "Rethinking the Inception Architecture", CVPR 2016, Sec. 7): the training
     * target of every example becomes {@code q = (1 − ε)·onehot(y) + ε/C} instead of {@code onehot(y)}, so the loss is
     * {@code −(1 − ε)·log p_y − (ε/C)·Σ_j log p_j} over the head's logits (with the margin on the target logit), and
     * {@code ∂L/∂z = p − q}. Not part of the saved configuration: the trainer sets it from {@code --label-smoothing}
     * on every run (a resumed one included); the served embedding does not depend on it.
     *
     * @param epsilon ε in [0, 1); 0 (the default) is plain cross-entropy
     * @throws IllegalArgumentException outside [0, 1)
     */
    public void setLabelSmoothing(double epsilon) {
        if (!(epsilon >= 0 && epsilon < 1)) {
            throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + epsilon);
        }
        clearPending();
        this.labelSmoothing = epsilon;
    }

    /** @return ε of {@link #setLabelSmoothing(double)} */
    public double labelSmoothing() {
        return labelSmoothing;
    }

    @Override
    protected INDArray getLabels2d(LayerWorkspaceMgr workspaceMgr, ArrayType arrayType) {
        return labels;
    }

    @Override
    public boolean hasBias() {
        return false;
    }

    @Override
    public boolean isPretrainLayer() {
        return false;
    }

    /** Softmax probabilities of the margin-free logits, {@code [B, C]}. */
    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(false);
        Pass p = new Pass(input);
        INDArray z = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, p.w.dataType(), p.batch, p.classes);
        p.plainLogits(z);
        Nd4j.exec(new SoftMax(z, z, 1));
        return z;
    }

    @Override
    public double computeScore(double fullNetRegTerm, boolean training, LayerWorkspaceMgr workspaceMgr) {
        requireInputAndLabels();
        double sum;
        if (pendingInput == input && pendingLabels == labels && !Double.isNaN(pendingLoss)) {
            sum = pendingLoss;
        } else {
            sum = 0;
            for (double v : new Pass(input).forward(labels)) {
                sum += v;
            }
        }
        clearPending();
        this.regTerm = fullNetRegTerm;
        double s = sum;
        if (conf().isMiniBatch()) {
            s /= input.size(0);
        }
        score = s + fullNetRegTerm;
        return score;
    }

    /** Per-example cross-entropy (with the margin), {@code [B, 1]}, plus {@code fullNetRegTerm}. */
    @Override
    public INDArray computeScoreForExamples(double fullNetRegTerm, LayerWorkspaceMgr workspaceMgr) {
        requireInputAndLabels();
        double[] losses = new Pass(input).forward(labels);
        INDArray out = Nd4j.create(losses, new long[]{losses.length, 1}, DataType.DOUBLE).castTo(input.dataType());
        if (fullNetRegTerm != 0.0) {
            out.addi(fullNetRegTerm);
        }
        return workspaceMgr.leverageTo(ArrayType.ACTIVATIONS, out);
    }

    @Override
    public void computeGradientAndScore(LayerWorkspaceMgr workspaceMgr) {
        if (input == null || labels == null) {
            return;
        }
        Pair<Gradient, INDArray> r = backpropGradient(null, workspaceMgr);
        this.gradient = r.getFirst();
        computeScore(regTerm, true, workspaceMgr);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        requireInputAndLabels();
        Pass p = new Pass(input);
        double[] losses = p.forward(labels);
        double sum = 0;
        for (double v : losses) {
            sum += v;
        }
        INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, p.w.dataType(), p.batch, p.x.size(1));
        p.backward(dx);
        Gradient g = new DefaultGradient();
        g.gradientForVariable().put(MarginHead.WEIGHT, gradientViews.get(MarginHead.WEIGHT));
        String extra = layerConf().extraParam();
        if (extra != null) {
            g.gradientForVariable().put(extra, gradientViews.get(extra));
        }
        this.gradient = g;
        pendingLoss = sum;
        pendingInput = input;
        pendingLabels = labels;
        return new Pair<>(g, dx.dataType() == input.dataType() ? dx
                : workspaceMgr.leverageTo(ArrayType.ACTIVATION_GRAD, dx.castTo(input.dataType())));
    }

    @Override
    public void setInput(INDArray input, LayerWorkspaceMgr workspaceMgr) {
        clearPending();
        super.setInput(input, workspaceMgr);
    }

    @Override
    public void setLabels(INDArray labels) {
        clearPending();
        super.setLabels(labels);
    }

    @Override
    public void clear() {
        clearPending();
        super.clear();
    }

    private void clearPending() {
        pendingLoss = Double.NaN;
        pendingInput = null;
        pendingLabels = null;
    }

    private void requireInputAndLabels() {
        if (input == null || labels == null) {
            throw new IllegalStateException("head " + layerId() + ": input and labels must be set");
        }
    }

    /**
     * Scratch arrays, detached from any workspace and kept across iterations ({@code [B, C]} ×3, {@code [B, D]} ×2,
     * and {@code [D, C]} for the normalised geometries).
     * Fresh native allocations of this size cost more than the GEMMs here (every new page faults in), so they are
     * reused while the batch size and data type stay the same.
     */
    private INDArray scratchP;
    private INDArray scratchZ;
    private INDArray scratchS;
    private INDArray scratchU;
    private INDArray scratchV;
    /** {@code [D, C]}, squares of W (normalised geometries only). */
    private INDArray scratchSq;
    private INDArray onesB;
    private INDArray onesD;

    private void ensureScratch(DataType type, long batch, long dim, long classes, boolean normalised) {
        if (scratchP == null || scratchP.dataType() != type || scratchP.size(0) != batch
                || scratchP.size(1) != classes || scratchU.size(1) != dim) {
            try (MemoryWorkspace ignored = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                scratchP = Nd4j.createUninitialized(type, batch, classes);
                scratchZ = Nd4j.createUninitialized(type, batch, classes);
                scratchS = Nd4j.createUninitialized(type, batch, classes);
                scratchU = Nd4j.createUninitialized(type, batch, dim);
                scratchV = Nd4j.createUninitialized(type, batch, dim);
                onesB = Nd4j.ones(type, 1, batch);
                onesD = Nd4j.ones(type, 1, dim);
                scratchSq = null;
            }
        }
        if (normalised && scratchSq == null) {
            try (MemoryWorkspace ignored = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                scratchSq = Nd4j.createUninitialized(type, dim, classes);
            }
        }
    }

    /**
     * Column sums of {@code m} ({@code [R, C]}) into {@code out} ({@code [1, C]}) as a GEMV with a ones row: ND4J's
     * {@code sum(0)} over a 'c'-ordered matrix walks it with stride C and is several times slower.
     */
    private static void columnSums(INDArray ones, INDArray m, INDArray out) {
        Nd4j.gemm(ones, m, out, false, false, 1.0, 0.0);
    }

    /** A rank-1 array of {@code type} holding {@code v}. */
    private static INDArray vector(double[] v, DataType type) {
        if (type == DataType.DOUBLE) {
            return Nd4j.createFromArray(v);
        }
        if (type != DataType.FLOAT) {
            return Nd4j.createFromArray(v).castTo(type);
        }
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return Nd4j.createFromArray(f);
    }

    /**
     * One forward (and optionally backward) evaluation on a fixed input. Length-B and length-C vectors (norms, scales,
     * the column-norm coefficients) are computed on the JVM: each ND4J op costs ~0.1 ms whatever its size here, so
     * doing this small arithmetic natively would cost more than the {@code [B, C]} work.
     */
    private final class Pass {
        final MarginHead head = layerConf();
        final MarginHead.Geometry geometry = head.geometry();
        final boolean normalised = geometry != MarginHead.Geometry.LINEAR;
        final double sigma = head.scale();
        final INDArray w = getParam(MarginHead.WEIGHT);
        final INDArray x;
        final int batch;
        final int classes;
        /** Features in the GEMM: x, or x/‖x‖ for SCALED. */
        final INDArray u;
        /** U W (+ b for LINEAR), [B, C]. */
        final INDArray p;
        /** ‖x_b‖ (normalised geometries). */
        double[] xn;
        /** ‖w_j‖ (normalised geometries). */
        double[] wn;
        /** σ / ‖w_j‖ (normalised geometries), also as an array. */
        double[] colScaleJ;
        INDArray colScale;
        /** Logits, [B, C]. */
        INDArray z;
        /** Softmax probabilities after forward (becomes H in backward), [B, C]. */
        INDArray prob;
        int[] y;
        double[] slope;
        double[] cosY;
        double[] tY;
        double[] zY;

        Pass(INDArray in) {
            if (in.rank() != 2 || in.size(1) != w.size(0)) {
                throw new IllegalArgumentException("head " + layerId() + ": expected input [B, " + w.size(0)
                        + "], got " + Arrays.toString(in.shape()));
            }
            this.x = in.dataType() == w.dataType() ? in : in.castTo(w.dataType());
            this.batch = (int) x.size(0);
            this.classes = (int) w.size(1);
            DataType type = w.dataType();
            ensureScratch(type, batch, w.size(0), classes, normalised);
            p = scratchP;
            if (!normalised) {
                u = x;
                Nd4j.gemm(u, w, p, false, false, 1.0, 0.0);
                p.addiRowVector(getParam(head.extraParam()));
                return;
            }
            xn = x.norm2(1).toDoubleVector();
            for (int b = 0; b < batch; b++) {
                xn[b] = Math.sqrt(xn[b] * xn[b] + MarginHead.NORM_EPS);
            }
            if (geometry == MarginHead.Geometry.SCALED) {
                u = scratchU;
                Nd4j.getExecutioner().exec(new BroadcastDivOp(x, vector(xn, type), u, 0));
            } else {
                u = x;
            }
            INDArray wn2 = Nd4j.createUninitialized(type, 1, classes);
            Nd4j.getExecutioner().exec(new MulOp(w, w, scratchSq));
            columnSums(onesD, scratchSq, wn2);
            wn = wn2.toDoubleVector();
            colScaleJ = new double[classes];
            for (int j = 0; j < classes; j++) {
                wn[j] = Math.sqrt(wn[j] + MarginHead.NORM_EPS);
                colScaleJ[j] = sigma / wn[j];
            }
            colScale = vector(colScaleJ, type);
            Nd4j.gemm(u, w, p, false, false, 1.0, 0.0);
        }

        /** Writes the logits without margin, [B, C], into {@code out}. */
        void plainLogits(INDArray out) {
            if (normalised) {
                Nd4j.getExecutioner().exec(new BroadcastMulOp(p, colScale, out, 1));
            } else {
                out.assign(p);
            }
        }

        /** Training logits, softmax and per-example loss (natural log). */
        double[] forward(INDArray labels) {
            y = labelIndices(labels);
            zY = new double[batch];
            if (normalised) {
                z = scratchZ;
                plainLogits(z);
                MarginHead.Target t = head.target(paramTable());
                double[] tv = new double[2];
                slope = new double[batch];
                cosY = new double[batch];
                tY = new double[batch];
                boolean magnitude = geometry == MarginHead.Geometry.MAGNITUDE;
                for (int b = 0; b < batch; b++) {
                    double denom = wn[y[b]] * (magnitude ? xn[b] : 1.0);
                    double c = Math.max(-1.0, Math.min(1.0, p.getDouble(b, y[b]) / denom));
                    t.eval(c, tv);
                    cosY[b] = c;
                    tY[b] = tv[0];
                    slope[b] = tv[1];
                    zY[b] = (magnitude ? xn[b] : sigma) * tv[0];
                    z.putScalar(b, y[b], zY[b]);
                }
            } else {
                z = p; // the backward pass of LINEAR does not need P
                for (int b = 0; b < batch; b++) {
                    zY[b] = z.getDouble(b, y[b]);
                }
            }
            prob = z == scratchZ ? scratchS : scratchZ;
            Nd4j.exec(new SoftMax(z, prob, 1));
            // loss_b = −log p_b,y. Where p_b,y underflows, use log-sum-exp = max_j z_bj − log max_j p_bj (the
            // largest probability is ≥ 1/C, so it never underflows): loss_b = max z − log max p − z_b,y.
            double tiny = z.dataType() == DataType.DOUBLE ? 1e-300 : 1e-30;
            double[] loss = new double[batch];
            double[] zMax = null;
            double[] pMax = null;
            for (int b = 0; b < batch; b++) {
                double py = prob.getDouble(b, y[b]);
                if (py > tiny) {
                    loss[b] = -Math.log(py);
                } else {
                    if (zMax == null) {
                        zMax = z.max(1).toDoubleVector();
                        pMax = prob.max(1).toDoubleVector();
                    }
                    loss[b] = zMax[b] - Math.log(pMax[b]) - zY[b];
                }
            }
            if (labelSmoothing > 0) {
                // (1 − ε)·(lse − z_y) + ε·(lse − mean_j z_j) = loss_b + ε·(z_y − mean_j z_j), with lse = loss_b + z_y
                double[] zMean = z.mean(1).toDoubleVector();
                for (int b = 0; b < batch; b++) {
                    loss[b] += labelSmoothing * (zY[b] - zMean[b]);
                }
            }
            return loss;
        }

        /** Writes ∂L/∂params (summed loss) into the gradient views and ∂L/∂x, [B, D], into {@code dx}. */
        void backward(INDArray dx) {
            INDArray gW = gradientViews.get(MarginHead.WEIGHT);
            INDArray h = prob; // softmax → G = softmax − Q → H, in place; Q = (1 − ε)·Y + ε/C
            double onTarget = 1.0 - labelSmoothing;
            if (labelSmoothing > 0) {
                h.subi(labelSmoothing / classes);
            }
            if (!normalised) {
                for (int b = 0; b < batch; b++) {
                    h.putScalar(b, y[b], h.getDouble(b, y[b]) - onTarget);
                }
                Nd4j.gemm(x, h, gW, true, false, 1.0, 0.0);
                columnSums(onesB, h, gradientViews.get(head.extraParam()));
                Nd4j.gemm(h, w, dx, false, true, 1.0, 0.0);
                return;
            }
            h.muliRowVector(colScale); // H = σ G / n for non-target entries (softmax part)
            double targetScale = geometry == MarginHead.Geometry.SCALED ? sigma : 1.0;
            double[] gY = new double[batch];
            for (int b = 0; b < batch; b++) {
                int j = y[b];
                gY[b] = h.getDouble(b, j) / colScaleJ[j] - onTarget;
                h.putScalar(b, j, gY[b] * slope[b] * targetScale / wn[j]);
            }
            // column-norm chain rule: ∂L/∂W = Uᵀ H − W diag(coef),  coef_j = Σ_b P_bj H_bj / n_j²
            INDArray colDot = Nd4j.createUninitialized(w.dataType(), 1, classes);
            columnSums(onesB, p.muli(h), colDot);
            double[] coef = colDot.toDoubleVector();
            for (int j = 0; j < classes; j++) {
                coef[j] = -coef[j] / (wn[j] * wn[j]);
            }
            Nd4j.getExecutioner().exec(new BroadcastMulOp(w, vector(coef, w.dataType()), gW, 1));
            Nd4j.gemm(u, h, gW, true, false, 1.0, 1.0);
            String extra = head.extraParam();
            if (extra != null && gradientViews.get(extra).getDouble(0) != 0.0) {
                gradientViews.get(extra).assign(0); // λ is set by the trainer, never learned
            }
            if (geometry == MarginHead.Geometry.MAGNITUDE) {
                // ∂L/∂x = diag(β) X + H Wᵀ, β_b = G_by (t − c t') / ‖x_b‖ from the ‖x‖ factor of f_y
                double[] beta = new double[batch];
                for (int b = 0; b < batch; b++) {
                    beta[b] = gY[b] * (tY[b] - cosY[b] * slope[b]) / xn[b];
                }
                Nd4j.getExecutioner().exec(new BroadcastMulOp(x, vector(beta, x.dataType()), dx, 0));
                Nd4j.gemm(h, w, dx, false, true, 1.0, 1.0);
                return;
            }
            Nd4j.gemm(h, w, dx, false, true, 1.0, 0.0); // ∂L/∂U
            // SCALED: ∂L/∂x = (∂L/∂U − U (U·∂L/∂U)) / ‖x‖
            Nd4j.getExecutioner().exec(new MulOp(u, dx, scratchV));
            double[] r = scratchV.sum(1).toDoubleVector();
            for (int b = 0; b < batch; b++) {
                r[b] = -r[b];
            }
            Nd4j.getExecutioner().exec(new BroadcastMulOp(u, vector(r, x.dataType()), scratchV, 0));
            double[] inv = new double[batch];
            for (int b = 0; b < batch; b++) {
                inv[b] = 1.0 / xn[b];
            }
            dx.addi(scratchV).muliColumnVector(vector(inv, x.dataType()));
        }
    }

    /** Index of the 1 in each one-hot label row. */
    private int[] labelIndices(INDArray labels) {
        if (labels.rank() != 2 || labels.size(0) != input.size(0) || labels.size(1) != layerConf().getNOut()) {
            throw new IllegalArgumentException("head " + layerId() + ": labels must be one-hot [" + input.size(0)
                    + ", " + layerConf().getNOut() + "], got " + Arrays.toString(labels.shape()));
        }
        long[] idx = Nd4j.argMax(labels, 1).toLongVector();
        int[] y = new int[idx.length];
        for (int b = 0; b < idx.length; b++) {
            y[b] = (int) idx[b];
            if (labels.getDouble(b, y[b]) != 1.0) {
                throw new IllegalArgumentException("head " + layerId() + ": labels must be one-hot; row " + b
                        + " has maximum " + labels.getDouble(b, y[b]));
            }
        }
        return y;
    }
}
