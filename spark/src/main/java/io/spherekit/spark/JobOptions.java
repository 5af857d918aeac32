package io.spherekit.spark;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Spark and batching options shared by the jobs. */
public final class JobOptions {

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master, e.g. local[2] (default: the one spark-submit sets).")
    String master;

    @Option(names = "--batch", defaultValue = "64", paramLabel = "N",
            description = "Images per ONNX Runtime call within a partition (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--partitions", defaultValue = "0", paramLabel = "N",
            description = "Partitions of the file list (default 0: 4 per core of the application, at most one per"
                    + " file).")
    int partitions;

    /** @throws ParameterException when {@code --batch < 1} or {@code --partitions < 0} */
    void validate() {
        if (batch < 1) {
            throw new ParameterException(mixee.commandLine(), "--batch must be >= 1, got " + batch);
        }
        if (partitions < 0) {
            throw new ParameterException(mixee.commandLine(), "--partitions must be >= 0, got " + partitions);
        }
    }

    /** @return the number of partitions for {@code n} files given {@code defaultParallelism} cores */
    int partitionsFor(int n, int defaultParallelism) {
        int p = partitions > 0 ? partitions : 4 * Math.max(1, defaultParallelism);
        return Math.max(1, Math.min(p, n));
    }
}
