package io.spherekit.trainer.head;

/**
 * The A-Softmax λ annealing of wy1iu/sphereface {@code margin_inner_product_layer.cpp}:
 * {@code λ(iter) = max(λ_min, base · (1 + γ·iter)^(−power))}.
 * Defaults base = 1000, γ = 0.12, power = 1, λ_min = 5: λ reaches 5 at iteration ≈ 1659.
 *
 * <p>{@code iter} is the <b>global</b> training iteration (restored on resume), never a per-run counter.
 *
 * @param base     λ at iteration 0, &gt; 0
 * @param gamma    decay rate per iteration, ≥ 0
 * @param power    decay exponent, ≥ 0
 * @param lambdaMin floor, ≥ 0
 */
public record LambdaSchedule(double base, double gamma, double power, double lambdaMin) {

    public static final LambdaSchedule SPHEREFACE = new LambdaSchedule(1000, 0.12, 1, 5);

    public LambdaSchedule {
        if (!(base > 0) || !(gamma >= 0) || !(power >= 0) || !(lambdaMin >= 0) || lambdaMin > base) {
            throw new IllegalArgumentException("invalid λ schedule: base=" + base + " gamma=" + gamma
                    + " power=" + power + " lambdaMin=" + lambdaMin + " (need base>0, gamma>=0, power>=0, 0<=lambdaMin<=base)");
        }
    }

    /**
     * The γ for which {@code base · (1 + γ·iterations)^(−power) = lambdaMin}: λ reaches its floor exactly at global
     * iteration {@code iterations}, as the reference schedule (γ 0.12) does at ≈ 1659 of its 28k iterations' first
     * phase. {@code train --lambda-gamma auto} uses it with the run's last iteration, so a run of any length ends at
     * full margin strength. γ = ((base/lambdaMin)^(1/power) − 1) / iterations.
     *
     * @throws IllegalArgumentException unless base &gt; lambdaMin &gt; 0, power &gt; 0 and iterations &gt; 0
     */
    public static double gammaReachingFloorAt(double base, double power, double lambdaMin, long iterations) {
        if (!(lambdaMin > 0) || !(base > lambdaMin) || !(power > 0) || iterations <= 0) {
            throw new IllegalArgumentException("--lambda-gamma auto needs lambda-base > lambda-min > 0, lambda-power > 0 and "
                    + "at least one iteration; got base=" + base + " lambdaMin=" + lambdaMin + " power=" + power
                    + " iterations=" + iterations);
        }
        return (Math.pow(base / lambdaMin, 1.0 / power) - 1) / iterations;
    }

    /** λ at global iteration {@code iter} (≥ 0). */
    public double valueAt(long iter) {
        if (iter < 0) {
            throw new IllegalArgumentException("iteration must be >= 0, got " + iter);
        }
        return Math.max(lambdaMin, base * Math.pow(1 + gamma * iter, -power));
    }
}
