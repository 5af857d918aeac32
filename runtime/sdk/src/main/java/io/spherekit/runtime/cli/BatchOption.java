package io.spherekit.runtime.cli;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The {@code --batch} option shared by the commands that embed many images. */
public final class BatchOption {

    @Option(names = "--batch", defaultValue = "64", paramLabel = "N",
            description = "Images per inference batch (default: ${DEFAULT-VALUE}).")
    int batch;

    /**
     * @return the batch size
     * @throws CommandLine.ParameterException (a usage error, exit 2) when it is below 1
     */
    int validated(CommandLine.Model.CommandSpec spec) {
        if (batch < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--batch must be >= 1, got " + batch);
        }
        return batch;
    }
}
