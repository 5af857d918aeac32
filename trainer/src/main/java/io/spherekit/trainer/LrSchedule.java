package io.spherekit.trainer;

import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;

import java.util.Arrays;
import java.util.Objects;

/**
 * Learning-rate schedule keyed on the global iteration (so a resumed run continues where it stopped).
 *
 * <ul>
 *   <li>{@code step}: {@code lr · 0.1^(number of milestones ≤ iter)} — the paper's schedule
 *       (wy1iu/sphereface {@code sphereface_solver.prototxt}: ×0.1 at 16k, 24k, 28k of 28k iterations).</li>
 *   <li>{@code cosine}: {@code lr · ½(1 + cos(π · iter / total))}.</li>
 * </ul>
 * An optional linear warm-up multiplies by {@code (iter+1)/warmup} for the first {@code warmup} iterations.
 * {@code multiplier} scales everything (Caffe {@code lr_mult: 2} for biases).
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class LrSchedule implements ISchedule {
    private String type = "step";
    private double baseLr;
    private int[] milestones = new int[0];
    private int totalIterations;
    private int warmupIterations;
    private double multiplier = 1.0;

    /** For Jackson. */
    protected LrSchedule() {
    }

    public LrSchedule(String type, double baseLr, int[] milestones, int totalIterations, int warmupIterations,
                      double multiplier) {
        if (!type.equals("step") && !type.equals("cosine")) {
            throw new IllegalArgumentException("lr schedule must be 'step' or 'cosine', got '" + type + "'");
        }
        if (!(baseLr > 0)) {
            throw new IllegalArgumentException("learning rate must be > 0, got " + baseLr);
        }
        if (totalIterations < 1 || warmupIterations < 0) {
            throw new IllegalArgumentException("need totalIterations >= 1 and warmup >= 0, got "
                    + totalIterations + ", " + warmupIterations);
        }
        this.type = type;
        this.baseLr = baseLr;
        this.milestones = milestones.clone();
        Arrays.sort(this.milestones);
        this.totalIterations = totalIterations;
        this.warmupIterations = warmupIterations;
        this.multiplier = multiplier;
    }

    public LrSchedule scaled(double m) {
        return new LrSchedule(type, baseLr, milestones, totalIterations, warmupIterations, multiplier * m);
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        double lr = baseLr * multiplier;
        if (type.equals("step")) {
            for (int m : milestones) {
                if (iteration >= m) {
                    lr *= 0.1;
                }
            }
        } else {
            double t = Math.min(1.0, iteration / (double) totalIterations);
            lr *= 0.5 * (1 + Math.cos(Math.PI * t));
        }
        if (iteration < warmupIterations) {
            lr *= (iteration + 1) / (double) warmupIterations;
        }
        return lr;
    }

    @Override
    public ISchedule clone() {
        return new LrSchedule(type, baseLr, milestones, totalIterations, warmupIterations, multiplier);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LrSchedule s && s.type.equals(type) && s.baseLr == baseLr
                && Arrays.equals(s.milestones, milestones) && s.totalIterations == totalIterations
                && s.warmupIterations == warmupIterations && s.multiplier == multiplier;
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, baseLr, Arrays.hashCode(milestones), totalIterations, warmupIterations, multiplier);
    }
}
