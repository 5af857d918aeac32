package io.spherekit.exporter;

import io.spherekit.trainer.keras.KerasImporter;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import ai.onnx.proto.OnnxMl;
import com.google.protobuf.InvalidProtocolBufferException;
import io.spherekit.core.cli.Cli;
import io.spherekit.core.ModelMetadata;
import io.spherekit.core.ModelMetadata.Key;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.TestTimeFlip;
import io.spherekit.core.ModelCard;
import io.spherekit.core.align.AlignmentTemplate;
import io.spherekit.core.io.AtomicFiles;
import io.spherekit.keras.KerasException;
import io.spherekit.keras.KerasToOnnx;
import io.spherekit.exporter.quant.Int8Options;
import io.spherekit.onnx.OnnxGraphBuilder;
import io.spherekit.onnx.OnnxModels;
import io.spherekit.trainer.ModelIO;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code export-model}: converts a trained SphereKit model (DL4J zip) to ONNX.
 *
 * <pre>
 * export-model --model trained.zip|dl4j.zip --output face.onnx [--input-type SPEC] [--mean F] [--scale F]
 *              [--channel-order RGB|BGR] [--align-template NAME] [--opset N] [--l2norm] [--check] [--fp16-weights]
 *              [--batch N] [--prelu depthwise|prelu]
 * export-model --from-keras model.keras|model.h5 --output face.onnx [--mean F] [--scale F] [--channel-order RGB|BGR]
 *              [--align-template NAME] [--opset N] [--l2norm] [--fp16-weights] [--batch N]
 *              [--int8 --calibration DIR|PAIRS.txt [--calibration-method minmax|percentile|entropy] [--calibration-count N]]
 * export-model --from-onnx model.onnx --int8 --calibration DIR|PAIRS.txt ... --output model-int8.onnx
 * </pre>
 * A Keras file of SphereKit's own SphereFace topology goes through the DL4J importer (so {@code --check} can compare
 * ORT with DL4J); any other Keras model goes through {@link KerasToOnnx} (Java, no DL4J), with the preprocessing
 * given on the command line recorded in its metadata.
 * <p>With {@code --int8} the exported float32 model is quantised ({@link io.spherekit.exporter.quant.Int8Export}) before it
 * is written; {@code --from-onnx} quantises an existing float32 ONNX model instead of converting one.
 * Exit codes, errors and {@code --version} follow {@link Cli}: 0 ok, 1 failure (bad model, unsupported layer,
 * failed check, I/O), 2 usage error. Nothing is written unless the export (and the check, when asked) succeeded.
 */
@Command(name = "export-model", mixinStandardHelpOptions = true, versionProvider = Cli.VersionProvider.class,
        sortOptions = false,
        description = {"Export a trained SphereKit model (DL4J zip) to ONNX: the backbone up to the embedding, "
                + "without the margin head.", "Relative paths are taken from the current folder."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:exported", "1:failure (bad model, unsupported layer, failed check, I/O error)", "2:usage error"})
public final class ExportCli implements Callable<Integer> {

    /** Batch size and seed of the {@code --check} comparison. */
    static final int CHECK_BATCH = 4;
    static final long CHECK_SEED = 20240601L;

    @Spec
    private CommandSpec spec;

    @CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
    private Source source;

    /** Exactly one of a SphereKit/DL4J model file or a Keras 3 file. */
    static final class Source {
        @Option(names = "--model", required = true, paramLabel = "<model.zip>", description = "A trained SphereKit model "
                + "file, or any DL4J ComputationGraph or MultiLayerNetwork zip (ModelSerializer) of supported layers, "
                + "recurrent ones included (give --input-type when the model does not record its input).")
        Path model;

        @Option(names = "--from-keras", required = true, paramLabel = "<model.keras>",
                description = "A Keras 3 (.keras) or legacy Keras 2 (.h5) model. SphereKit's SphereFace topology is imported "
                        + "to DL4J and exported (input assumed to use the SphereFace LFW preprocessing); any other "
                        + "Sequential/Functional model is converted directly by the Keras -> ONNX converter, recording "
                        + "--mean/--scale/--channel-order/--align-template and the model's input size.")
        Path keras;

        @Option(names = "--from-onnx", required = true, paramLabel = "<model.onnx>",
                description = "An existing float32 ONNX model to quantise (needs --int8); its metadata is kept.")
        Path onnx;
    }

    @Option(names = "--input-type", paramLabel = "SPEC",
            description = "DL4J models: the network input, image:H,W,C[,nhwc], vector:N or sequence:F,T[,nwc] (a "
                    + "recurrent network needs its sequence length). Default: the model's recorded input size, else its "
                    + "configuration, else 112x96 images.")
    private String inputType;

    @Option(names = "--mean", paramLabel = "F", defaultValue = "127.5",
            description = "Keras models, and DL4J models with a 3-channel image input: pixel mean subtracted before scaling, recorded in the metadata (default: ${DEFAULT-VALUE}).")
    private float mean;

    @Option(names = "--scale", paramLabel = "F", defaultValue = "0.0078125",
            description = "Keras models: factor applied after the mean, input = (p - mean) * scale (default: ${DEFAULT-VALUE} = 1/128).")
    private float scale;

    @Option(names = "--channel-order", paramLabel = "RGB|BGR", defaultValue = "RGB",
            description = "Keras models: channel order of the input (default: ${DEFAULT-VALUE}).")
    private Preprocessing.ChannelOrder channelOrder;

    @Option(names = "--align-template", paramLabel = "NAME",
            description = "Keras models and DL4J image models: alignment template to record (e.g. sphereface-112x96, arcface-112x112).")
    private String alignTemplate;
    @Mixin
    private Int8Options int8;

    @Option(names = "--flip", paramLabel = "none|sum|concat",
            description = "Record the test-time flip the model is to be used with (spherekit.input.flip; the runtime's"
                    + " default --flip). A threshold the model carries from training was calibrated without flip, so"
                    + " with sum or concat it is left out (calibrate one with evaluate --write-threshold). Default:"
                    + " the trained model's metadata as is.")
    private String flip;

    @Option(names = "--output", required = true, paramLabel = "<file.onnx>", description = "ONNX file to write (replaced atomically).")
    private Path output;

    @Option(names = "--opset", paramLabel = "N", defaultValue = "" + OnnxModels.DEFAULT_OPSET,
            description = "ONNX opset, " + OnnxModels.MIN_OPSET + "-" + OnnxModels.MAX_OPSET + " (default: ${DEFAULT-VALUE}).")
    private int opset;

    @Option(names = "--l2norm", description = "Add a second output '" + Dl4jToOnnx.OUTPUT_NORM + "' with unit-norm rows.")
    private boolean l2norm;

    @Option(names = "--check", description = "Run the model in ONNX Runtime against DL4J on a random batch of "
            + CHECK_BATCH + "; fail if the max abs difference exceeds ${sys:spherekit.checkTolerance:-1e-4} "
            + "× max(1, max |embedding|) (2e-3 with --fp16-weights, whose rounding alone moves unit-scale embeddings "
            + "by ~3e-4).")
    private boolean check;

    @Option(names = "--fp16-weights", description = "Store weights as float16 (half the size; computes in float32).")
    private boolean fp16;

    @Option(names = "--batch", paramLabel = "N", description = "Fixed batch size (default: symbolic 'batch').")
    private Integer batch;

    @Option(names = "--prelu", paramLabel = "FORM", defaultValue = "depthwise",
            converter = PreluFormConverter.class,
            description = "ONNX form of PReLU: depthwise (Relu + two 1x1 depthwise Conv + Add, which ONNX Runtime CPU "
                    + "keeps in its blocked NCHWc layout: faster end to end) or prelu (one PRelu node, which makes it "
                    + "reorder the layout). Default: ${DEFAULT-VALUE}.")
    private Dl4jToOnnx.PreluForm prelu;

    /** Case-insensitive {@code depthwise} / {@code prelu}. */
    static final class PreluFormConverter implements CommandLine.ITypeConverter<Dl4jToOnnx.PreluForm> {
        @Override
        public Dl4jToOnnx.PreluForm convert(String value) {
            try {
                return Dl4jToOnnx.PreluForm.valueOf(value.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("expected depthwise or prelu, got '" + value + "'");
            }
        }
    }

    private final PrintStream out;
    private final PrintStream err;

    private ExportCli(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /**
     * The command line with {@link Cli}'s conventions, printing to {@code out} and {@code err}; {@code execute}
     * returns 0, 1 or 2.
     */
    public static CommandLine commandLine(PrintStream out, PrintStream err) {
        return Cli.create(new ExportCli(out, err), out, err);
    }

    /**
     * Runs the command (never calls {@link System#exit}).
     *
     * @return 0 ok, 1 failure, 2 usage error
     */
    public static int run(PrintStream out, PrintStream err, String... args) {
        return Cli.run(new ExportCli(out, err), args, out, err);
    }

    public static void main(String[] args) {
        Cli.exit(new ExportCli(System.out, System.err), args);
    }

    private static String message(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getName() : m;
    }

    /** Imports a Keras 3 file; its metadata records the source and the assumed SphereFace preprocessing. */
    static ModelIO.TrainedModel fromKeras(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new Cli.Failure("Keras model not found: " + file);
        }
        ComputationGraph g;
        try {
            g = KerasImporter.load(file);
        } catch (RuntimeException e) {
            throw new Cli.Failure("cannot import Keras model " + file + ": " + message(e), e);
        }
        ModelMetadata meta = ModelMetadata.builder()
                .preprocessing(Preprocessing.LFW_SPHEREFACE)
                .put(Key.VERSION, Cli.VERSION)
                .put(Key.SOURCE, "keras:" + file.getFileName())
                .put(Key.INPUT_ASSUMED, "true")
                .build();
        return new ModelIO.TrainedModel(g, meta.toMap());
    }

    @Override
    public Integer call() throws Exception {
        if (opset < OnnxModels.MIN_OPSET || opset > OnnxModels.MAX_OPSET) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--opset must be between "
                    + OnnxModels.MIN_OPSET + " and " + OnnxModels.MAX_OPSET + ", got " + opset);
        }
        if (batch != null && batch < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--batch must be >= 1, got " + batch);
        }
        int8.validate();
        if (source.onnx != null && !int8.enabled()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--from-onnx needs --int8");
        }
        if (int8.enabled() && (fp16 || (source.onnx != null && (check || l2norm || batch != null)))) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--int8 does not combine with --fp16-weights,"
                    + " nor --from-onnx with --check, --l2norm or --batch");
        }
        if (inputType != null && source.model == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--input-type applies to --model (DL4J zips); "
                    + "Keras and ONNX models carry their input shape");
        }
        Path target = output.toAbsolutePath();
        Path model = source.model != null ? source.model : source.keras != null ? source.keras : source.onnx;
        if (Files.exists(model) && Files.exists(target) && Files.isSameFile(model, target)) {
            throw new Cli.Failure("--output must not be the model file: " + output);
        }
        if (target.getParent() == null || !Files.isDirectory(target.getParent())) {
            throw new Cli.Failure("output directory does not exist: " + target.getParent());
        }
        if (source.onnx != null) {
            return quantizeOnnx(model, target);
        }
        Dl4jToOnnx.Options options = Dl4jToOnnx.Options.defaults()
                .withOpset(opset)
                .withL2norm(l2norm)
                .withPrecision(fp16 ? OnnxGraphBuilder.WeightPrecision.FLOAT16 : OnnxGraphBuilder.WeightPrecision.FLOAT32)
                .withBatch(batch == null ? OnnxGraphBuilder.BATCH : batch)
                .withPrelu(prelu);

        if (source.keras != null && !isSphereFaceKeras(model)) {
            return exportGeneralKeras(model, target);
        }
        TestTimeFlip flipMode = null;
        if (flip != null) {
            try {
                flipMode = TestTimeFlip.parse(flip);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--flip: " + e.getMessage());
            }
        }
        Dl4jModelFile.Loaded trained = source.model != null ? Dl4jModelFile.load(model) : loaded(fromKeras(model));
        if (flipMode != null) {
            trained = new Dl4jModelFile.Loaded(trained.network(), withFlip(trained.metadata(), flipMode));
        }
        InputType in = null;
        if (inputType != null) {
            try {
                in = Dl4jModelFile.parseInputType(inputType);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--input-type " + message(e));
            }
        }
        Dl4jToOnnx.Conversion conv;
        try {
            conv = trained.network() instanceof ComputationGraph g
                    ? (in == null ? Dl4jToOnnx.convert(g, trained.metadata(), options) : Dl4jToOnnx.convert(g, in, trained.metadata(), options))
                    : (in == null ? Dl4jToOnnx.convert((MultiLayerNetwork) trained.network(), trained.metadata(), options)
                    : Dl4jToOnnx.convert((MultiLayerNetwork) trained.network(), in, trained.metadata(), options));
        } catch (ExportException e) {
            String hint = message(e).contains("InputType.recurrent") ? " (give it with --input-type sequence:F,T[,nwc])" : "";
            throw new Cli.Failure("cannot export " + model + ": " + message(e) + hint, e);
        }
        Map<String, String> extra = dl4jMetadata(model, trained, conv);
        if (!extra.isEmpty()) {
            conv = new Dl4jToOnnx.Conversion(OnnxModels.withMetadata(conv.model(), extra), conv.embeddingVertex(),
                    conv.dropped(), conv.inputShape(), conv.embeddingDim(), conv.outputShape());
        }
        byte[] bytes = conv.model().toByteArray();

        String checkLine = null;
        if (check) {
            double tol = Double.parseDouble(System.getProperty("spherekit.checkTolerance",
                    "" + (fp16 ? OrtCheck.FP16_TOLERANCE : OrtCheck.DEFAULT_TOLERANCE)));
            int n = batch == null ? CHECK_BATCH : batch;
            OrtCheck.Result r = OrtCheck.compareAny(trained.network(), conv, bytes, n, CHECK_SEED);
            checkLine = String.format(Locale.ROOT, "check: ONNX Runtime vs DL4J max abs diff %.3g on a random batch of %d"
                    + " (max |embedding| %.3g, tolerance %.1g x max(1, max |embedding|) = %.3g)", r.maxAbsDiff(), n,
                    r.maxAbs(), tol, r.allowed(tol));
            if (!r.passes(tol)) {
                throw new Cli.Failure(checkLine + ": FAILED; nothing written");
            }
        }
        if (int8.enabled()) {
            out.printf(Locale.ROOT, "exported %s to float32 in memory; quantising to int8%n", model);
            bytes = int8.apply(bytes, conv.model().getMetadataPropsList().stream()
                    .anyMatch(p -> p.getKey().equals(Preprocessing.ALIGN_TEMPLATE_KEY)), out);
            conv = new Dl4jToOnnx.Conversion(OnnxMl.ModelProto.parseFrom(bytes), conv.embeddingVertex(),
                    conv.dropped(), conv.inputShape(), conv.embeddingDim(), conv.outputShape());
        }
        long size = Dl4jToOnnx.writeBytes(bytes, target);
        printSummary(conv, size, checkLine);
        return Cli.OK;
    }

    private static Dl4jModelFile.Loaded loaded(ModelIO.TrainedModel m) {
        return new Dl4jModelFile.Loaded(m.graph(), m.metadata());
    }

    private boolean given(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    /**
     * The metadata a DL4J export adds: for a 3-channel image input, the preprocessing of --mean/--scale/--channel-order
     * when one of them is given or the model records none (then their defaults, as for Keras models), and
     * --align-template; for a model without SphereKit metadata, its source. Empty when nothing is to add.
     */
    Map<String, String> dl4jMetadata(Path file, Dl4jModelFile.Loaded trained, Dl4jToOnnx.Conversion conv) {
        ModelMetadata existing = ModelMetadata.parse(trained.metadata());
        long[] s = conv.inputShape();
        boolean nhwc = conv.model().getGraph().getNodeList().stream().anyMatch(n -> n.getOutput(0).equals("input_nchw"));
        boolean image = s.length == 3 && (nhwc ? s[2] : s[0]) == 3;
        boolean preGiven = given("--mean") || given("--scale") || given("--channel-order");
        ModelMetadata.Builder b = ModelMetadata.builder();
        boolean any = false;
        if (!image && (preGiven || alignTemplate != null)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--mean/--scale/--channel-order/--align-template "
                    + "apply to 3-channel image inputs; this model's input is " + java.util.Arrays.toString(s));
        }
        if (image && (preGiven || existing.preprocessing().isEmpty())) {
            int h = (int) (nhwc ? s[0] : s[1]);
            int w = (int) (nhwc ? s[1] : s[2]);
            b.preprocessing(Preprocessing.fullImage(h, w, mean, scale, channelOrder));
            any = true;
        }
        if (alignTemplate != null) {
            try {
                b.put(Key.INPUT_ALIGN_TEMPLATE, AlignmentTemplate.named(alignTemplate).name());
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--align-template: " + message(e));
            }
            any = true;
        }
        if (existing.get(Key.VERSION).isEmpty()) {
            b.put(Key.VERSION, Cli.VERSION).put(Key.SOURCE, "dl4j:" + file.getFileName());
            any = true;
        }
        return any ? b.build().toMap() : Map.of();
    }

    /**
     * The metadata with {@code spherekit.input.flip} set to {@code f} (removed for none); with sum or concat a
     * threshold calibrated in another flip mode (the metadata's own, absent = none) is left out, and said so.
     */
    private Map<String, String> withFlip(Map<String, String> md, TestTimeFlip f) {
        ModelMetadata parsed = ModelMetadata.parse(md);
        ModelMetadata.Builder b = parsed.toBuilder().put(Key.INPUT_FLIP, f.needsMirror() ? f.id() : null);
        if (parsed.threshold().isPresent() && parsed.flip() != f) {
            b.put(Key.THRESHOLD, (String) null).put(Key.THRESHOLD_SOURCE, (String) null);
            out.printf(Locale.ROOT, "flip %s: the model's threshold %s was calibrated with flip %s, so it is left out;"
                    + " calibrate one with evaluate --flip %s --write-threshold%n", f.id(),
                    parsed.get(Key.THRESHOLD).orElse("?"), parsed.flip().id(), f.id());
        }
        return b.build().toMap();
    }

    /** True if SphereKit's SphereFace importer takes the file (its own topology); false for any other Keras model. */
    static boolean isSphereFaceKeras(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new Cli.Failure("Keras model not found: " + file);
        }
        try {
            KerasImporter.load(file);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The metadata of a general Keras conversion: preprocessing from the options, size from the model input. */
    Map<String, String> kerasMetadata(Path file, long[] inputShape) {
        if (inputShape.length != 3 || inputShape[2] != 3) {
            return ModelMetadata.builder().put(Key.VERSION, Cli.VERSION).put(Key.SOURCE, "keras:" + file.getFileName())
                    .build().toMap();
        }
        ModelMetadata.Builder b = ModelMetadata.builder()
                .preprocessing(Preprocessing.fullImage((int) inputShape[0], (int) inputShape[1], mean, scale, channelOrder))
                .put(Key.VERSION, Cli.VERSION)
                .put(Key.SOURCE, "keras:" + file.getFileName());
        if (alignTemplate != null) {
            try {
                b.put(Key.INPUT_ALIGN_TEMPLATE, AlignmentTemplate.named(alignTemplate).name());
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--align-template: " + message(e));
            }
        }
        return b.build().toMap();
    }

    private int exportGeneralKeras(Path file, Path target) throws Exception {
        if (check) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--check compares with DL4J and needs a "
                    + "SphereFace topology; " + file + " is converted without DL4J (its parity is proven by the "
                    + "exporter/keras tests)");
        }
        KerasToOnnx.Options o = KerasToOnnx.Options.defaults().withOpset(opset).withL2norm(l2norm)
                .withBatch(batch == null ? OnnxGraphBuilder.BATCH : batch)
                .withPrecision(fp16 ? OnnxGraphBuilder.WeightPrecision.FLOAT16 : OnnxGraphBuilder.WeightPrecision.FLOAT32);
        KerasToOnnx.Conversion conv;
        try {
            KerasToOnnx.Conversion c = KerasToOnnx.convert(file, Map.of(), o);
            // A model with several inputs records no image preprocessing (the runtime feeds one image input).
            conv = c.withModel(OnnxModels.withMetadata(c.model(), kerasMetadata(file,
                    c.inputs().size() == 1 ? c.kerasInputShape() : new long[0])));
        } catch (KerasException e) {
            throw new Cli.Failure("cannot convert Keras model: " + message(e), e);
        }
        byte[] bytes = conv.model().toByteArray();
        if (int8.enabled()) {
            out.printf(Locale.ROOT, "converted %s to float32 in memory; quantising to int8%n", file);
            bytes = int8.apply(bytes, alignTemplate != null, out);
        }
        AtomicFiles.writeBytes(target, bytes);
        OnnxMl.ModelProto m = OnnxMl.ModelProto.parseFrom(bytes);
        out.printf(Locale.ROOT, "exported %s (Keras model '%s', %d layers) -> %s%n", file, conv.modelName(), conv.layers(), output);
        out.println("  inputs:  " + m.getGraph().getInputList().stream().map(OnnxModels::describe).collect(Collectors.joining(", ")));
        out.println("  outputs: " + m.getGraph().getOutputList().stream().map(OnnxModels::describe).collect(Collectors.joining(", ")));
        out.println("  ops:     " + OnnxModels.opCounts(m).entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining(", ")) + " (" + m.getGraph().getNodeCount() + " nodes)");
        out.printf(Locale.ROOT, "  parameters: %,d (%s), %,d bytes%n", OnnxModels.parameterCount(m),
                int8.enabled() ? "int8 weights, int32 bias, plus scales" : fp16 ? "float16" : "float32", bytes.length);
        out.flush();
        return Cli.OK;
    }

    /** {@code --from-onnx FILE --int8}: quantises an existing float32 ONNX model. */
    private int quantizeOnnx(Path model, Path target) throws Exception {
        if (!Files.isRegularFile(model)) {
            throw new Cli.Failure("ONNX model not found: " + model);
        }
        byte[] fp32 = Files.readAllBytes(model);
        OnnxMl.ModelProto m;
        try {
            m = OnnxMl.ModelProto.parseFrom(fp32);
        } catch (InvalidProtocolBufferException e) {
            throw new Cli.Failure("not an ONNX model: " + model + ": " + message(e), e);
        }
        boolean template = m.getMetadataPropsList().stream().anyMatch(p -> p.getKey().equals(Preprocessing.ALIGN_TEMPLATE_KEY));
        out.printf(Locale.ROOT, "quantising %s -> %s%n", model, output);
        Path cardFile = ModelCard.besideModel(model);
        ModelCard card = null;
        if (Files.isRegularFile(cardFile)) {
            try {
                card = ModelCard.read(cardFile);
            } catch (IOException e) {
                throw new Cli.Failure(e.getMessage(), e);
            }
            out.println("  preprocessing from the model card " + cardFile);
        }
        byte[] bytes = int8.apply(fp32, template, card, out);
        long size = Dl4jToOnnx.writeBytes(bytes, target);
        OnnxMl.ModelProto q = OnnxMl.ModelProto.parseFrom(bytes);
        out.printf(Locale.ROOT, "  opset %d, IR version %d%n", q.getOpsetImport(0).getVersion(), q.getIrVersion());
        out.println("  ops:     " + OnnxModels.opCounts(q).entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining(", ")) + " (" + q.getGraph().getNodeCount() + " nodes)");
        out.printf(Locale.ROOT, "  file size: %,d bytes (float32: %,d)%n", size, fp32.length);
        out.flush();
        return Cli.OK;
    }

    private void printSummary(Dl4jToOnnx.Conversion conv, long size, String checkLine) {
        OnnxMl.ModelProto m = conv.model();
        Map<String, Integer> ops = OnnxModels.opCounts(m);
        out.printf(Locale.ROOT, "exported %s -> %s%n", source.model != null ? source.model : source.keras, output);
        out.printf(Locale.ROOT, "  opset %d, IR version %d, producer %s %s%n", m.getOpsetImport(0).getVersion(),
                m.getIrVersion(), m.getProducerName(), m.getProducerVersion());
        out.println("  inputs:  " + m.getGraph().getInputList().stream().map(OnnxModels::describe).collect(Collectors.joining(", ")));
        out.println("  outputs: " + m.getGraph().getOutputList().stream().map(OnnxModels::describe).collect(Collectors.joining(", ")));
        out.println("  ops:     " + ops.entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining(", ")) + " (" + m.getGraph().getNodeCount() + " nodes)");
        out.printf(Locale.ROOT, "  parameters: %,d (%s)%n", OnnxModels.parameterCount(m),
                int8.enabled() ? "int8 weights, int32 bias, plus scales" : fp16 ? "float16" : "float32");
        out.printf(Locale.ROOT, "  file size: %,d bytes%n", size);
        out.println("  embedding: DL4J vertex '" + conv.embeddingVertex() + "', dropped " + conv.dropped());
        out.println("  metadata: " + m.getMetadataPropsCount() + " spherekit.* entries");
        if (checkLine != null) {
            out.println("  " + checkLine + ": OK");
        }
        out.flush();
    }
}
