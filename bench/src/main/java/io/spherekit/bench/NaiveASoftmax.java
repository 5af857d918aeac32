package io.spherekit.bench;

import java.util.Arrays;

/**
 * Benchmark-only anchor: A-Softmax (m = 4, SphereFace Eq. 7 with the λ blend) forward + backward written as plain
 * per-element Java loops: no BLAS, no vectorisation help, W read column-wise from its row-major {@code [D, C]}
 * layout. It exists to show what the head costs without a tensor library; it is not used by SphereKit.
 *
 * <pre>
 *   ŵ_j = W[:, j] / ‖W[:, j]‖,  c_j = x·ŵ_j / ‖x‖ (clipped to [−1, 1])
 *   ψ(c) = (−1)^k T_4(c) − 2k,   k = #{ i ∈ 1..3 : c < cos(iπ/4) }
 *   f_y = ‖x‖ g(c_y),  g(c) = (λc + ψ(c)) / (1 + λ);   f_j = ‖x‖ c_j = x·ŵ_j (j ≠ y)
 *   loss = −Σ_b log softmax(f_b)_{y_b};   δ_j = ∂loss/∂f_j = p_j − 1[j = y]
 *   ∂f_j/∂x = ŵ_j (j ≠ y),  ∂f_y/∂x = g'(c_y) ŵ_y + (g(c_y) − g'(c_y) c_y) x/‖x‖
 *   ∂f_j/∂W_j = s_j (x − (x·ŵ_j) ŵ_j) / ‖W_j‖,  s_j = 1 (j ≠ y), g'(c_y) (j = y)
 * </pre>
 * (The clip's zero gradient at |c| = 1 is ignored; random data never reaches it.)
 */
public final class NaiveASoftmax {
    private static final double[] THRESH = {Math.cos(Math.PI / 4), Math.cos(2 * Math.PI / 4), Math.cos(3 * Math.PI / 4)};

    private final int d;
    private final int c;
    private final double lambda;
    // scratch, reused across calls
    private final double[] wNorm;
    private final double[] logits;
    private final double[] cos;

    public NaiveASoftmax(int d, int c, double lambda) {
        this.d = d;
        this.c = c;
        this.lambda = lambda;
        this.wNorm = new double[c];
        this.logits = new double[c];
        this.cos = new double[c];
    }

    private static double psi(double cs) {
        int k = 0;
        for (double t : THRESH) {
            if (cs < t) {
                k++;
            }
        }
        double c2 = cs * cs;
        double t4 = 8 * c2 * c2 - 8 * c2 + 1;
        return ((k & 1) == 0 ? t4 : -t4) - 2.0 * k;
    }

    private static double dpsi(double cs) {
        int k = 0;
        for (double t : THRESH) {
            if (cs < t) {
                k++;
            }
        }
        double dt4 = 32 * cs * cs * cs - 16 * cs;
        return (k & 1) == 0 ? dt4 : -dt4;
    }

    /**
     * @param x  [b, d] row-major
     * @param w  [d, c] row-major
     * @param y  labels, length b
     * @param dx out: ∂loss/∂x [b, d] (overwritten)
     * @param dw out: ∂loss/∂W [d, c] (overwritten)
     * @return the summed loss
     */
    public double forwardBackward(float[] x, float[] w, int[] y, int b, float[] dx, float[] dw) {
        Arrays.fill(dx, 0f);
        Arrays.fill(dw, 0f);
        for (int j = 0; j < c; j++) {
            double s = 0;
            for (int k = 0; k < d; k++) {
                double v = w[k * c + j];
                s += v * v;
            }
            wNorm[j] = Math.sqrt(s + 1e-12);
        }
        double total = 0;
        for (int i = 0; i < b; i++) {
            double xs = 0;
            for (int k = 0; k < d; k++) {
                xs += (double) x[i * d + k] * x[i * d + k];
            }
            double xn = Math.sqrt(xs + 1e-12);
            int yi = y[i];
            for (int j = 0; j < c; j++) {
                double dot = 0;
                for (int k = 0; k < d; k++) {
                    dot += (double) x[i * d + k] * w[k * c + j];
                }
                double cs = Math.max(-1.0, Math.min(1.0, dot / (xn * wNorm[j])));
                cos[j] = cs;
                logits[j] = j == yi ? xn * (lambda * cs + psi(cs)) / (1 + lambda) : xn * cs;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) {
                max = Math.max(max, logits[j]);
            }
            double sum = 0;
            for (int j = 0; j < c; j++) {
                sum += Math.exp(logits[j] - max);
            }
            double lse = max + Math.log(sum);
            total += lse - logits[yi];
            for (int j = 0; j < c; j++) {
                double delta = Math.exp(logits[j] - lse) - (j == yi ? 1.0 : 0.0);
                double scale = 1.0;
                double extra = 0.0;
                if (j == yi) {
                    double g = (lambda * cos[j] + psi(cos[j])) / (1 + lambda);
                    double gp = (lambda + dpsi(cos[j])) / (1 + lambda);
                    scale = gp;
                    extra = g - gp * cos[j];
                }
                double proj = cos[j] * xn; // x·ŵ_j
                double invW = 1.0 / wNorm[j];
                for (int k = 0; k < d; k++) {
                    double what = w[k * c + j] * invW;
                    double xk = x[i * d + k];
                    dx[i * d + k] += (float) (delta * (scale * what + extra * xk / xn));
                    dw[k * c + j] += (float) (delta * scale * (xk - proj * what) * invW);
                }
            }
        }
        return total;
    }
}
