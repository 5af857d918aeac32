package io.spherekit.exporter.quant;

import ai.onnxruntime.OrtException;
import io.spherekit.core.ModelCard;
import io.spherekit.core.SphereKitException;
import io.spherekit.core.cli.Cli;
import io.spherekit.runtime.FaceEmbedder;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The {@code --int8} options of {@code export-model} (a picocli mixin), and the step that applies them to the
 * exported float32 bytes.
 */
public final class Int8Options {

    /** Default {@code --calibration-count}. */
    public static final int DEFAULT_COUNT = 300;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--int8", description = "Write a statically quantised int8 model (QDQ form: int8 weights per output"
            + " channel, int32 bias, uint8 activations per tensor), calibrated on --calibration.")
    boolean enabled;

    @Option(names = "--calibration", paramLabel = "DIR|PAIRS.txt", description = "Calibration images for --int8: a"
            + " folder of face images (searched recursively) or an LFW pair list (its images under"
            + " --calibration-images). They go through the model's own preprocessing.")
    Path calibration;

    @Option(names = "--calibration-images", paramLabel = "DIR", description = "Image root of a pair list given to"
            + " --calibration (default: lfw-deepfunneled next to the list).")
    Path calibrationImages;

    @Option(names = "--calibration-method", paramLabel = "minmax|percentile|entropy", defaultValue = "minmax",
            description = "Activation range: minmax (observed min/max), percentile (--calibration-percentile of |x|)"
                    + " or entropy (TensorRT's KL-divergence threshold, 2048 bins, 128 levels). Default: ${DEFAULT-VALUE}.")
    String method;

    @Option(names = "--calibration-percentile", paramLabel = "P", defaultValue = "" + CalibrationMethod.DEFAULT_PERCENTILE,
            description = "Percentile of --calibration-method percentile, in (0,100]. Default: ${DEFAULT-VALUE}.")
    double percentile;

    @Option(names = "--calibration-count", paramLabel = "N", defaultValue = "" + DEFAULT_COUNT,
            description = "Calibration images to use, evenly spaced over the sorted set. Default: ${DEFAULT-VALUE}.")
    int count;

    @Option(names = "--calibration-align", paramLabel = "crop|detect", description = "How calibration images become"
            + " model inputs: crop (the model's fixed crop box) or detect (BlazeFace + alignment, as serving with"
            + " --align detect; images without a face are skipped). Default: detect when the model's metadata names an"
            + " alignment template (spherekit.input.align.template), else crop.")
    String align;

    @Option(names = "--detector", paramLabel = "DETECTOR.onnx", description = "Face detector for --calibration-align"
            + " detect (default: the one the build fetches).")
    Path detector;

    @Option(names = "--int8-activations", paramLabel = "uint8|int8", defaultValue = "uint8",
            description = "Integer type of the activations (uint8 is what ONNX Runtime's x86 kernels prefer with int8"
                    + " weights). Default: ${DEFAULT-VALUE}.")
    String activations;

    @Option(names = "--int8-reduce-range", description = "7-bit weights in [-63, 63] instead of [-127, 127], as ONNX"
            + " Runtime's quantiser's reduce_range: on x86 CPUs without AVX-512 VNNI (AVX2, plain AVX-512) the U8S8"
            + " kernels add pairs of uint8*int8 products in int16, which can saturate with full-range weights.")
    boolean reduceRange;

    @Option(names = "--int8-keep-prelu", description = "Quantise each PReLU in the form the model has, instead of"
            + " rewriting it to x + (1 - a)*Relu(-x) (which runs in ONNX Runtime's integer kernels with no float"
            + " requantisation step; the default). For comparison.")
    boolean keepPrelu;

    /** @return whether {@code --int8} was given */
    public boolean enabled() {
        return enabled;
    }

    /** Usage checks: {@code --calibration} is required with {@code --int8}, values in range. */
    public void validate() {
        CommandLine cl = mixee.commandLine();
        if (!enabled) {
            if (calibration != null) {
                throw new CommandLine.ParameterException(cl, "--calibration needs --int8");
            }
            return;
        }
        if (calibration == null) {
            throw new CommandLine.ParameterException(cl, "--int8 needs --calibration DIR|PAIRS.txt");
        }
        if (count < 1) {
            throw new CommandLine.ParameterException(cl, "--calibration-count must be >= 1, got " + count);
        }
        if (!(percentile > 0 && percentile <= 100)) {
            throw new CommandLine.ParameterException(cl, "--calibration-percentile must be in (0,100], got " + percentile);
        }
        try {
            CalibrationMethod.parse(method);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, "--calibration-method: " + e.getMessage());
        }
        if (align != null && !align.equals("crop") && !align.equals("detect")) {
            throw new CommandLine.ParameterException(cl, "--calibration-align must be crop or detect, got '" + align + "'");
        }
        if (!activations.equalsIgnoreCase("uint8") && !activations.equalsIgnoreCase("int8")) {
            throw new CommandLine.ParameterException(cl, "--int8-activations must be uint8 or int8, got '" + activations + "'");
        }
    }

    /**
     * Quantises float32 model bytes as the options say, printing one summary block to {@code out}.
     *
     * @param alignTemplateInMetadata whether the model's metadata names an alignment template (the default of
     *                                {@code --calibration-align})
     * @return the int8 model bytes
     * @throws Cli.Failure naming the calibration set or model when quantisation is refused or fails
     */
    public byte[] apply(byte[] fp32, boolean alignTemplateInMetadata, PrintStream out) {
        return apply(fp32, alignTemplateInMetadata, null, out);
    }

    /**
     * As {@link #apply(byte[], boolean, PrintStream)} for a model that may lack SphereKit metadata.
     *
     * @param card the preprocessing of a model without {@code spherekit.input.*} metadata (a model card), or null
     */
    public byte[] apply(byte[] fp32, boolean alignTemplateInMetadata, ModelCard card, PrintStream out) {
        boolean detect = align == null ? alignTemplateInMetadata : align.equals("detect");
        Int8Export.Options o = Int8Export.Options.defaults()
                .withMethod(CalibrationMethod.parse(method))
                .withPercentile(percentile)
                .withActivations(QdqQuantizer.ActivationType.valueOf(activations.toUpperCase(Locale.ROOT)))
                .withReduceRange(reduceRange)
                .withRewritePrelu(!keepPrelu)
                .withDetect(detect, detector)
                .withModelCard(card);
        try {
            CalibrationSet set = CalibrationSet.open(calibration, calibrationImages, count);
            Int8Export.Result r = Int8Export.quantize(fp32, set, o);
            out.printf(Locale.ROOT, "  int8: QDQ, %s calibration on %d images of %s (%s%s), %d activation tensors%n",
                    o.describeMethod(), r.images(), set.name(), detect ? "detect + align" : "fixed crop",
                    r.skipped() > 0 ? ", " + r.skipped() + " without a face skipped" : "", r.tensors());
            if (r.prelusRewritten() > 0) {
                out.printf(Locale.ROOT, "  int8: %d PReLU rewritten to x + (1 - a)*Relu(-x) (integer kernels only)%n",
                        r.prelusRewritten());
            }
            out.printf(Locale.ROOT, "  int8 vs float32 on the calibration images: cosine min %.5f, mean %.5f%n",
                    r.minCosine(), r.meanCosine());
            return r.model().toByteArray();
        } catch (FaceEmbedder.IncompletePreprocessingException e) {
            throw new Cli.Failure("the model has no SphereKit preprocessing metadata (spherekit.input.*), so calibration"
                    + " cannot preprocess its images: give a model card (a MODEL.onnx.json next to the --from-onnx"
                    + " model; see README 'Any ONNX face model') with the fields " + e.missing().stream()
                    .map(ModelCard.Field::json).collect(Collectors.joining(", ")), e);
        } catch (SphereKitException | IOException e) {
            throw new Cli.Failure(e.getMessage(), e);
        } catch (OrtException e) {
            throw new Cli.Failure("calibration failed in ONNX Runtime: " + e.getMessage(), e);
        }
    }
}
