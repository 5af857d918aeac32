package io.spherekit.runtime.cli;

import io.spherekit.core.ModelCard;
import java.nio.file.Path;
import java.util.function.Function;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * The checks of the model options that the local commands ({@link ModelOptions}) and the Spark jobs
 * ({@code io.spherekit.spark.ModelOptions}) both have: one rule and one message for each, every failure a usage
 * error (exit 2) of the command that mixes the options in.
 *
 * <p>The two classes declare their own {@code @Option} fields: the Spark jobs' help texts say where each file is
 * read (driver or executors) and their {@code --threads} default is 1, so the declarations are not the same.
 */
public final class ModelOptionChecks {

    private final CommandSpec mixee;

    /** @param mixee the command the model options are mixed into (its usage errors) */
    public ModelOptionChecks(CommandSpec mixee) {
        this.mixee = mixee;
    }

    /** Refuses a negative {@code --threads}. */
    public void threads(int threads) {
        if (threads < 0) {
            throw usage("--threads must be >= 0, got " + threads);
        }
    }

    /** Refuses {@code --detector} or {@code --align-template} without {@code --align detect}. */
    public void detectorOptions(boolean alignDetect, Path detector, String alignTemplate) {
        if (!alignDetect && (detector != null || alignTemplate != null)) {
            throw usage("--detector and --align-template need --align detect");
        }
    }

    /**
     * Parses an option's value.
     *
     * @param option the option's name, which starts the message of a bad value ({@code "--flip: ..."})
     * @param value  the value given, or {@code null} when the option was not given
     * @param parse  the parser; its {@link IllegalArgumentException} becomes the usage error
     * @return the parsed value, or {@code null} for a {@code null} value
     */
    public <T> T parse(String option, String value, Function<String, T> parse) {
        if (value == null) {
            return null;
        }
        try {
            return parse.apply(value);
        } catch (IllegalArgumentException e) {
            throw usage(option + ": " + e.getMessage());
        }
    }

    /**
     * The model card fields given as flags ({@code null} = not given), checked field by field; a bad value is a
     * usage error naming its flag, and {@code --scale} with {@code --std} is refused first.
     *
     * @return the fields (to lay over the model card file, {@link ModelOptions#card(Path, Path, ModelCard)})
     */
    public ModelCard preprocessingFlags(String inputSize, Double mean, Double scale, Double std, String channelOrder,
                                        String layout, String crop) {
        if (scale != null && std != null) {
            throw usage("give --scale or --std, not both");
        }
        ModelCard.Builder f = ModelCard.builder();
        flag("--input-size", () -> f.inputSize(inputSize), inputSize);
        flag("--mean", () -> f.mean(mean), mean);
        flag("--scale", () -> f.scale(scale), scale);
        flag("--std", () -> f.std(std), std);
        flag("--channel-order", () -> f.channelOrder(channelOrder), channelOrder);
        flag("--layout", () -> f.layout(layout), layout);
        flag("--crop", () -> f.crop(crop), crop);
        return f.build();
    }

    /** A usage error of the command. */
    ParameterException usage(String message) {
        return new ParameterException(mixee.commandLine(), message);
    }

    private void flag(String name, Runnable set, Object value) {
        if (value == null) {
            return;
        }
        try {
            set.run();
        } catch (IllegalArgumentException e) {
            throw usage(name + ": " + e.getMessage());
        }
    }
}
