package io.spherekit.spark;

import io.spherekit.core.ModelCard;
import io.spherekit.core.SphereKitException;
import io.spherekit.core.TestTimeFlip;
import io.spherekit.runtime.Provider;
import io.spherekit.runtime.cli.ModelOptionChecks;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The model options of the Spark jobs: the local commands' model options ({@code io.spherekit.runtime.cli.ModelOptions})
 * that executors can honour, with the same defaults: the preprocessing from the flags over the model card
 * ({@code --model-card}, default {@code MODEL.onnx.json} next to the model when it exists) over the model's
 * metadata, and the test-time flip from {@code --flip}, else the model's {@code spherekit.input.flip}, else none.
 * The card is read on the driver and shipped to the executors with the {@link EmbedderSpec}.
 */
public final class ModelOptions {

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--model", required = true, paramLabel = "MODEL.onnx",
            description = "ONNX embedding model, readable on the driver; on the executors the same path, else the file"
                    + " of that name shipped with spark-submit --files (checked by SHA-256).")
    Path model;

    @Option(names = "--provider", defaultValue = "auto", paramLabel = "auto|cuda|cpu",
            description = "ONNX Runtime execution provider (default: ${DEFAULT-VALUE}).")
    Provider provider;

    @Option(names = "--threads", defaultValue = "1", paramLabel = "N",
            description = "ONNX Runtime intra-op threads of the executor's session (default: ${DEFAULT-VALUE}: each"
                    + " of an executor's concurrent tasks runs on its own core through the one shared session;"
                    + " 0 = ONNX Runtime's default).")
    int threads;

    /** How an image becomes the model input (as the local commands' --align). */
    public enum Align { crop, detect }

    @Option(names = "--align", paramLabel = "crop|detect",
            description = "crop: the model's fixed crop box. detect: BlazeFace, largest face aligned onto the model's"
                    + " template. Default: how the model was trained (metadata spherekit.input.align), else crop.")
    Align align;

    @Option(names = "--detector", paramLabel = "DETECTOR.onnx",
            description = "Face detector for --align detect (found on executors as --model is; default: the"
                    + " spherekit.detector.model system property, else the build's runtime/sdk/target/detector file).")
    Path detector;

    @Option(names = "--align-template", paramLabel = "NAME",
            description = "Alignment template for --align detect: sphereface-112x96 or arcface-112x112.")
    String alignTemplate;

    @Option(names = "--lfw-preprocessing", description = "When the model has no spherekit.input.* metadata, use the"
            + " SphereFace deep-funneled LFW preprocessing.")
    boolean lfwPreprocessing;

    @Option(names = "--model-card", paramLabel = "CARD.json",
            description = "JSON model card with the preprocessing of a model without SphereKit metadata (fields"
                    + " input_size, mean, scale or std, channel_order, layout, crop, align_template), read on the"
                    + " driver. Default: MODEL.onnx.json next to the model, when it exists. Flags override the card,"
                    + " the card overrides the model's metadata.")
    Path modelCard;

    @Option(names = "--input-size", paramLabel = "HxW", description = "Model input height x width in pixels.")
    String inputSize;

    @Option(names = "--mean", paramLabel = "M", description = "Subtracted from each 0..255 pixel value.")
    Double mean;

    @Option(names = "--scale", paramLabel = "S", description = "Multiplies (pixel - mean); or give --std.")
    Double scale;

    @Option(names = "--std", paramLabel = "D", description = "Divides (pixel - mean): the same as --scale 1/D.")
    Double std;

    @Option(names = "--channel-order", paramLabel = "RGB|BGR", description = "Channel order of the model input.")
    String channelOrder;

    @Option(names = "--layout", paramLabel = "NCHW", description = "Input layout; only NCHW is fed.")
    String layout;

    @Option(names = "--crop", paramLabel = "L,T,W,H",
            description = "Fixed crop box of --align crop as fractions of the image (left, top, width, height).")
    String crop;

    @Option(names = "--flip", paramLabel = "none|sum|concat",
            description = "Test-time flip, as the local commands: also embed each aligned face mirrored left-right"
                    + " and combine the two embeddings (sum: normalised sum, same dimension; concat: twice the"
                    + " dimension; none: the model's output as is). Default: the model's metadata"
                    + " spherekit.input.flip, else none. The mode is part of the model id (+flip=MODE).")
    String flip;

    @Option(names = "--verbose", description = "Print stack traces on errors.")
    boolean verbose;

    /**
     * @return the executor-side description of the embedder
     * @throws ParameterException bad values or combinations (usage error; the local commands' checks,
     *                            {@link ModelOptionChecks})
     * @throws SphereKitException the model cannot be read on the driver
     */
    public EmbedderSpec spec() throws SphereKitException {
        ModelOptionChecks check = new ModelOptionChecks(mixee);
        check.threads(threads);
        check.detectorOptions(align == Align.detect, detector, alignTemplate);
        TestTimeFlip flipMode = check.parse("--flip", flip, TestTimeFlip::parse);
        ModelCard flags = check.preprocessingFlags(inputSize, mean, scale, std, channelOrder, layout, crop);
        ModelCard card = io.spherekit.runtime.cli.ModelOptions.card(model, modelCard, flags);
        return EmbedderSpec.of(model, provider, threads, align == null ? null : align.name(), detector,
                alignTemplate, lfwPreprocessing, card, flipMode);
    }
}
