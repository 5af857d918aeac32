package io.spherekit.runtime.cli;

import io.spherekit.core.ModelCard;
import io.spherekit.core.align.AlignmentTemplate;
import io.spherekit.runtime.FaceDetector;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.FaceEmbedder.IncompletePreprocessingException;
import io.spherekit.runtime.GraphOptimization;
import io.spherekit.core.Preprocessing;
import io.spherekit.runtime.Provider;
import io.spherekit.core.SphereKitException;
import io.spherekit.core.TestTimeFlip;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Options shared by every subcommand that loads a model.
 *
 * <p>A model's preprocessing comes, field by field, from the flags ({@code --input-size}, {@code --mean},
 * {@code --scale}/{@code --std}, {@code --channel-order}, {@code --layout}, {@code --crop}, {@code --align-template}),
 * over the model card ({@code --model-card FILE}, default {@code MODEL.onnx.json} when it exists; format in
 * {@link ModelCard}), over the model's {@code spherekit.input.*} metadata (else {@code --lfw-preprocessing}). A model
 * without metadata that lacks a required field fails as a usage error naming the missing flags and card fields.
 */
public final class ModelOptions {

    /** The command this mixin belongs to, so that bad values are usage errors of that command. */
    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--model", required = true, paramLabel = "MODEL.onnx",
            description = "ONNX embedding model (a relative path is taken from the current folder).")
    Path model;

    @Option(names = "--provider", defaultValue = "auto", paramLabel = "auto|cuda|cpu",
            description = "Execution provider (default: ${DEFAULT-VALUE}). auto runs on CPU with the CPU build of"
                    + " ONNX Runtime, and on a GPU build tries CUDA and falls back to CPU with a warning."
                    + " A custom ONNX Runtime build (e.g. for CUDA 13) is selected with"
                    + " -Donnxruntime.native.path=DIR.")
    Provider provider;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
            description = "ONNX Runtime intra-op threads (0 = ONNX Runtime's default).")
    int threads;

    @Option(names = "--graph-optimization", paramLabel = "none|basic|extended|layout|all",
            description = "ONNX Runtime graph optimisation level (default: ONNX Runtime's, all). none is for a model"
                    + " written by --save-optimized-model.")
    String graphOptimization;

    @Option(names = "--save-optimized-model", paramLabel = "FILE.onnx",
            description = "Also write the graph ONNX Runtime optimised to FILE (atomically, ONNX format, metadata"
                    + " kept); load it later with --graph-optimization none. At layout/all it is specific to this"
                    + " CPU kind and ONNX Runtime version.")
    Path saveOptimizedModel;

    @Option(names = "--intra-op-spinning", paramLabel = "true|false", arity = "1",
            description = "Whether idle ONNX Runtime intra-op threads spin (default: ONNX Runtime's, true) or sleep.")
    Boolean intraOpSpinning;

    @Option(names = "--lfw-preprocessing", description = "When the model has no spherekit.input.* metadata, use"
            + " the SphereFace deep-funneled LFW preprocessing (crop 114x133 at 67,52 -> 112x96); the"
            + " preprocessing flags and the model card override it field by field.")
    boolean lfwPreprocessing;

    @Option(names = "--model-card", paramLabel = "CARD.json",
            description = "JSON model card with the preprocessing of a model without SphereKit metadata (fields"
                    + " input_size, mean, scale or std, channel_order, layout, crop, align_template; see README)."
                    + " Default: MODEL.onnx.json next to the model, when it exists. Flags override the card, the card"
                    + " overrides the model's metadata.")
    Path modelCard;

    @Option(names = "--input-size", paramLabel = "HxW",
            description = "Model input height x width in pixels, e.g. 112x112 (default: card, metadata, else the"
                    + " model's fixed input shape).")
    String inputSize;

    @Option(names = "--mean", paramLabel = "M", description = "Subtracted from each 0..255 pixel value"
            + " (ArcFace/SphereFace: 127.5).")
    Double mean;

    @Option(names = "--scale", paramLabel = "S", description = "Multiplies (pixel - mean), e.g. 0.0078125 = 1/128;"
            + " or give --std.")
    Double scale;

    @Option(names = "--std", paramLabel = "D", description = "Divides (pixel - mean): the same as --scale 1/D.")
    Double std;

    @Option(names = "--channel-order", paramLabel = "RGB|BGR", description = "Channel order of the model input.")
    String channelOrder;

    @Option(names = "--layout", paramLabel = "NCHW",
            description = "Input layout; only NCHW ([N,3,H,W]) is fed, so this only checks a card's claim.")
    String layout;

    @Option(names = "--crop", paramLabel = "L,T,W,H",
            description = "Fixed crop box of --align crop as fractions of the image (left, top, width, height);"
                    + " default for a model without metadata: 0,0,1,1 (the whole image).")
    String crop;

    @Option(names = "--verbose", description = "Print stack traces on errors.")
    boolean verbose;

    /** How an image becomes the model input. */
    public enum Align { crop, detect }

    @Option(names = "--align", paramLabel = "crop|detect",
            description = "crop: the model's fixed crop box (frames like deep-funneled LFW). detect: find the"
                    + " largest face (BlazeFace), align its eyes, nose and mouth onto the model's template, then"
                    + " embed; an image without a face is refused by verify and gallery search, skipped and counted by"
                    + " embed and gallery build (see --on-no-face), and embedded from the fixed crop and counted by"
                    + " evaluate. Default: how the model was trained (metadata spherekit.input.align: detect for a"
                    + " model trained with 'train --align detect'), else crop.")
    Align align;

    @Option(names = "--detector", paramLabel = "DETECTOR.onnx",
            description = "Face detector for --align detect (default: -D" + FaceDetector.MODEL_PROPERTY
                    + ", else runtime/sdk/target/detector/face_detection_front_128x128.onnx, which the build"
                    + " fetches).")
    Path detector;

    @Option(names = "--align-template", paramLabel = "NAME",
            description = "Alignment template for --align detect: sphereface-112x96 or arcface-112x112 (default:"
                    + " the model card's align_template, the model's metadata spherekit.input.align.template, else by"
                    + " input size).")
    String alignTemplate;

    @Option(names = "--flip", paramLabel = "none|sum|concat",
            description = "Test-time flip: also embed each aligned face mirrored left-right and combine the two"
                    + " embeddings (sum: normalised sum of the normalised embeddings, same dimension; concat: their"
                    + " concatenation, normalised, twice the dimension; none: the model's output as is). Default:"
                    + " the model's metadata spherekit.input.flip (written by evaluate --flip MODE"
                    + " --write-threshold, so the model's threshold is used in the mode it was calibrated in),"
                    + " else none.")
    String flip;

    /** The {@code --model} path as given (relative paths resolve against the current folder). */
    public Path model() {
        return model;
    }

    /**
     * Opens the embedder these options describe.
     *
     * @throws ParameterException (a usage error, exit 2) when {@code --threads} is negative; checked before the
     *                            model is read
     * @throws SphereKitException the model cannot be loaded (message names the file)
     */
    public FaceEmbedder open() throws SphereKitException {
        ModelOptionChecks check = new ModelOptionChecks(mixee);
        check.threads(threads);
        check.detectorOptions(align == Align.detect, detector, alignTemplate);
        AlignmentTemplate template = check.parse("--align-template", alignTemplate, AlignmentTemplate::named);
        TestTimeFlip flipMode = check.parse("--flip", flip, TestTimeFlip::parse);
        GraphOptimization level = null;
        if (graphOptimization != null) {
            try {
                level = GraphOptimization.valueOf(graphOptimization.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw check.usage("--graph-optimization must be none, basic, extended, layout or all, got '"
                        + graphOptimization + "'");
            }
        }
        ModelCard card = card();
        FaceEmbedder.Builder b = FaceEmbedder.builder().setModelPath(model).optProvider(provider);
        b.optIntraOpThreads(threads);
        b.optGraphOptimization(level);
        b.optIntraOpSpinning(intraOpSpinning);
        b.optSaveOptimizedModel(saveOptimizedModel);
        b.optModelCard(card);
        b.optFlip(flipMode);
        if (lfwPreprocessing) {
            b.optPreprocessing(Preprocessing.LFW_SPHEREFACE);
        }
        if (align == Align.detect) {
            b.optDetector(FaceDetector.builder().optModelPath(detector).optProvider(provider)
                    .optIntraOpThreads(threads).build());
            b.optAlignmentTemplate(template);
        } else if (align == null) { // the model's own mode: detect when it was trained on aligned faces
            b.optDetectorIfModelAligned(FaceDetector.builder().optProvider(provider).optIntraOpThreads(threads));
        }
        try {
            return b.build();
        } catch (IncompletePreprocessingException e) {
            throw check.usage(missingMessage(e.missing()));
        }
    }

    /**
     * The preprocessing fields from the flags over the model card file.
     *
     * @throws ParameterException a bad flag value, naming the flag (usage error)
     * @throws SphereKitException the card file cannot be read or holds a bad field (the message names the file)
     */
    ModelCard card() throws SphereKitException {
        ModelCard flags = new ModelOptionChecks(mixee).preprocessingFlags(inputSize, mean, scale, std, channelOrder,
                layout, crop);
        return card(model, modelCard, flags);
    }

    /**
     * The model card of a command (shared with the batch jobs, e.g. on Apache Spark): the flags' fields over the
     * card file, which is {@code cardFlag} when given, else {@code MODEL.onnx.json} next to the model when it exists
     * ({@link ModelCard#besideModel}), else none.
     *
     * @param model    the model file
     * @param cardFlag the {@code --model-card} file, or {@code null}
     * @param flags    the fields given as flags ({@link ModelCard#EMPTY} for none)
     * @return the card (possibly empty)
     * @throws SphereKitException the card file cannot be read or holds a bad field (the message names the file)
     */
    public static ModelCard card(Path model, Path cardFlag, ModelCard flags) throws SphereKitException {
        Path file = cardFile(model, cardFlag);
        if (file == null) {
            return flags;
        }
        try {
            return flags.over(ModelCard.read(file));
        } catch (IOException e) {
            throw new SphereKitException(e.getMessage(), e);
        }
    }

    /** @return {@code --model-card}, else {@code MODEL.onnx.json} when it exists, else {@code null} */
    Path cardFile() {
        return cardFile(model, modelCard);
    }

    /**
     * @param model    the model file
     * @param cardFlag the {@code --model-card} file, or {@code null}
     * @return {@code cardFlag}, else {@code MODEL.onnx.json} next to the model when it exists, else {@code null}
     */
    public static Path cardFile(Path model, Path cardFlag) {
        if (cardFlag != null) {
            return cardFlag;
        }
        Path beside = ModelCard.besideModel(model);
        return Files.isRegularFile(beside) ? beside : null;
    }

    private String missingMessage(List<ModelCard.Field> missing) {
        List<String> flags = new ArrayList<>();
        List<String> fields = new ArrayList<>();
        for (ModelCard.Field m : missing) {
            flags.add(m.flag());
            fields.add(m.json());
        }
        Path file = cardFile();
        return "model " + model + " has no SphereKit preprocessing metadata (spherekit.input.*), so its"
                + " preprocessing must be given: missing " + String.join(", ", flags) + " (or the field"
                + (fields.size() > 1 ? "s " : " ") + String.join(", ", fields) + " in the model card "
                + (file != null ? file : ModelCard.besideModel(model) + ", which does not exist")
                + "); e.g. for an ArcFace-style model: --input-size 112x112 --mean 127.5 --scale 0.0078125"
                + " --channel-order RGB";
    }
}
