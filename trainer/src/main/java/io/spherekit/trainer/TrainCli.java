package io.spherekit.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.spherekit.core.cli.Cli;
import io.spherekit.core.cli.LfwLocation;
import io.spherekit.core.io.AtomicFiles;
import io.spherekit.trainer.data.Augmentation;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code train}: fits SphereFace + a margin head on LFW View-1 DevTrain (or any person-per-folder set) and writes
 * {@code <out>/model.zip} and {@code <out>/train-report.json}. Exit codes, errors and {@code --version} follow
 * {@link Cli}: 0 ok, 1 failure, 2 usage error (bad option values are found before any data is read).
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false, showDefaultValues = true,
        versionProvider = Cli.VersionProvider.class,
        description = {"Train SphereFace with a margin head (A-Softmax, AM-Softmax, ArcFace or softmax) in DL4J.",
            "Relative paths are taken from the current folder."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:trained", "1:failure (LFW or images missing, unreadable data, I/O error)", "2:usage error"})
public final class TrainCli implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;


    @Option(names = "--lfw", paramLabel = "DIR", description = LfwLocation.HELP)
    Path lfw;
    @Option(names = "--images", description = "Person-per-folder image root (default: <lfw>/lfw-deepfunneled)")
    Path images;
    @Option(names = "--people", description = "People list restricting identities (default: <lfw>/peopleDevTrain.txt; 'none' for all folders)")
    String people;
    @Option(names = "--min-images", defaultValue = "2", description = "Keep identities with at least this many images") int minImages;
    @Option(names = "--max-identities", defaultValue = "0", description = "Use only the first N identities (0 = all)") int maxIdentities;
    @Option(names = "--out", defaultValue = "runs/train", description = "Run directory") Path out;
    @Option(names = "--depth", defaultValue = "4", description = "SphereFace depth 4|10|20|36|64") int depth;
    @Option(names = "--input", defaultValue = "112x96", description = "Input HxW (the paper's)") String input;
    @Option(names = "--batchnorm", description = "BatchNormalization after every conv (later SphereFace work; off by default)") boolean batchNorm;
    @Option(names = "--align", defaultValue = "crop", paramLabel = "crop|detect", description = "crop: the fixed crop box"
            + " (frames like deep-funneled LFW). detect: align each image's largest face (the runtime's BlazeFace detector)"
            + " onto the input's template (sphereface-112x96 at 112x96), as 'verify --align detect' does; images without"
            + " a face are left out and reported. The model records it, so the runtime aligns by default.") String align;
    @Option(names = "--landmarks", paramLabel = "FILE", description = "With --align detect: the file 'spherekit landmarks"
            + " --root IMAGES --out FILE' wrote (default: run that command, cached in --cache-dir)") Path landmarks;
    @Option(names = "--fail-on-corrupt", description = "Fail on an undecodable image instead of skipping and counting it") boolean failOnCorrupt;
    @Option(names = "--width", defaultValue = "0.5", description = "Width multiplier on 64/128/256/512 channels") double width;
    @Option(names = "--embedding-dim", defaultValue = "512", description = "Embedding size (fc5 outputs)") int embeddingDim;
    @Option(names = "--head", defaultValue = "asoftmax", description = "asoftmax|amsoftmax|arcface|softmax") String head;
    @Option(names = "--scale", paramLabel = "s|auto", converter = ScaleConverter.class,
            description = "s for amsoftmax (default 30) / arcface (default 64), or auto: the fixed AdaCos scale "
                    + "sqrt(2)*ln(C-1) for C identities (10.0 for 1184)") Double scale;

    /**
     * {@code auto} → {@code null}, else the number (which may be NaN or infinite: the caller checks its range).
     *
     * @throws CommandLine.TypeConversionException "'v' is neither a number nor 'auto'"
     */
    static Double numberOrAuto(String v) {
        if ("auto".equals(v)) {
            return null;
        }
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("'" + v + "' is neither a number nor 'auto'");
        }
    }

    /** {@code auto} → NaN (the AdaCos scale of the class count), else a finite number &gt; 0. */
    static final class ScaleConverter implements CommandLine.ITypeConverter<Double> {
        @Override
        public Double convert(String v) {
            Double s = numberOrAuto(v);
            if (s == null) {
                return Double.NaN;
            }
            if (!(s > 0) || s.isInfinite()) {
                throw new CommandLine.TypeConversionException("s must be a finite number > 0 or 'auto', got " + v);
            }
            return s;
        }
    }
    @Option(names = "--margin", description = "m for amsoftmax (cosine, default 0.35) / arcface (radians, default 0.5)") Double margin;
    @Option(names = "--m", defaultValue = "4", description = "A-Softmax margin m (1..4)") int m;
    @Option(names = "--lambda-base", defaultValue = "1000", description = "A-Softmax λ = max(λ_min, base·(1+γ·iter)^(−power)): base") double lambdaBase;
    @Option(names = "--lambda-gamma", defaultValue = "0.12", paramLabel = "γ|auto", converter = GammaConverter.class,
            description = "λ schedule: γ (default ${DEFAULT-VALUE}, the reference's: λ reaches 5 at iteration 1659), or "
                    + "auto: the γ with which λ reaches --lambda-min at this run's last iteration") double lambdaGamma;

    /** {@code auto} → NaN (resolved by the trainer once the iteration count is known), else a number ≥ 0. */
    static final class GammaConverter implements CommandLine.ITypeConverter<Double> {
        @Override
        public Double convert(String v) {
            Double g = numberOrAuto(v);
            if (g == null) {
                return Double.NaN;
            }
            if (!(g >= 0)) {
                throw new CommandLine.TypeConversionException("γ must be >= 0 or 'auto', got " + v);
            }
            return g;
        }
    }

    @Option(names = "--lambda-power", defaultValue = "1", description = "λ schedule: power") double lambdaPower;
    @Option(names = "--lambda-min", defaultValue = "5", description = "λ schedule: floor λ_min") double lambdaMin;
    @Option(names = "--epochs", defaultValue = "8", description = "Passes over the training images") int epochs;
    @Option(names = "--batch", defaultValue = "32", description = "Images per iteration") int batch;
    @Option(names = "--lr", defaultValue = "0.01", description = "Base learning rate (SGD, Nesterov momentum)") double lr;
    @Option(names = "--lr-schedule", defaultValue = "step", description = "step|cosine") String lrSchedule;
    @Option(names = "--warmup", defaultValue = "0", description = "Linear warm-up iterations") int warmup;
    @Option(names = "--momentum", defaultValue = "0.9", description = "Nesterov momentum") double momentum;
    @Option(names = "--weight-decay", defaultValue = "5e-4", description = "L2 weight decay") double weightDecay;
    @Option(names = "--no-flip", description = "Disable random horizontal flips") boolean noFlip;
    @Option(names = "--seed", defaultValue = "42", description = "Seed of initialisation, order and augmentation") long seed;
    @Option(names = "--threads", defaultValue = "2", description = "Image decoding threads") int threads;
    @Option(names = "--random-crop", defaultValue = "2", description = "Random-crop margin in pixels per side (112x96 windows of a 116x100 resize at 2; 0 = off)") int cropMargin;
    @Option(names = "--augment", defaultValue = "none", paramLabel = "SPEC", converter = AugmentConverter.class,
            description = "Augmentation beyond flip + crop: " + Augmentation.SYNTAX + " (default none). With "
                    + "scale/rotate give a larger --random-crop (e.g. 4), so the transform sees real pixels at the border")
    Augmentation augment;

    /** {@link Augmentation#parse}, its message as the usage error. */
    static final class AugmentConverter implements CommandLine.ITypeConverter<Augmentation> {
        @Override
        public Augmentation convert(String v) {
            try {
                return Augmentation.parse(v);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
    @Option(names = "--label-smoothing", defaultValue = "0", paramLabel = "ε", description = "Label smoothing: "
            + "targets (1-ε)·onehot + ε/C (Szegedy et al. 2016), any head; 0 = off") double labelSmoothing;
    @Option(names = "--cache-dir", description = "Decoded-image cache (default: ~/.cache/spherekit)") Path cacheDir;
    @Option(names = "--no-cache", description = "Decode images every run") boolean noCache;
    @Option(names = "--checkpoint-every", defaultValue = "200", description = "Checkpoint every N iterations, plus every epoch end") int checkpointEvery;
    @Option(names = "--resume", description = "Continue from the newest checkpoint in --out") boolean resume;
    @Option(names = "--init-from", paramLabel = "MODEL.zip", description = "Fine-tune: start from this trained model's"
            + " backbone (same --depth/--width/--embedding-dim/--input/--batchnorm), keep its head when the identity set"
            + " and head match, else a new head for this run's identities (default: from scratch)") Path initFrom;
    @Option(names = "--lambda-schedule", defaultValue = "continue", paramLabel = "continue|restart", description = "With"
            + " --init-from: A-Softmax λ continues from the model's saved iteration, or restarts at --lambda-base")
    String lambdaSchedule;
    @Option(names = "--val-fraction", defaultValue = "0.1", description = "Identities held out for the per-epoch 10-fold check (0 = train on all)") double valFraction;

    private final PrintStream out0;
    private final PrintStream err0;

    TrainCli(PrintStream out, PrintStream err) {
        this.out0 = out;
        this.err0 = err;
    }

    @Override
    public Integer call() throws Exception {
        Path root = LfwLocation.resolve(lfw);
        Path imageRoot = images != null ? images : root.resolve("lfw-deepfunneled");
        Path peopleFile = people == null ? root.resolve("peopleDevTrain.txt")
                : people.equals("none") ? null : Path.of(people);
        TrainConfig cfg;
        String[] hw = input.toLowerCase(Locale.ROOT).split("x");
        if (hw.length != 2 || !hw[0].matches("\\d+") || !hw[1].matches("\\d+")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--input must be HxW, e.g. 112x96; got " + input);
        }
        try {
            cfg = TrainConfig.builder().imageRoot(imageRoot).peopleFile(peopleFile).minImages(minImages)
                    .maxIdentities(maxIdentities).outputDir(out).depth(depth).widthMultiplier(width)
                    .embeddingDim(embeddingDim).head(head).m(m).lambdaBase(lambdaBase).lambdaGamma(lambdaGamma)
                    .lambdaPower(lambdaPower).lambdaMin(lambdaMin).epochs(epochs).batchSize(batch).lr(lr)
                    .lrSchedule(lrSchedule).warmup(warmup).momentum(momentum).weightDecay(weightDecay).flip(!noFlip)
                    .seed(seed).threads(threads).valFraction(valFraction)
                    .scale(scale == null ? Double.NaN : scale).scaleAuto(scale != null && Double.isNaN(scale))
                    .margin(margin == null ? Double.NaN : margin)
                    .cropMargin(cropMargin).augmentation(augment).labelSmoothing(labelSmoothing)
                    .cacheDir(noCache ? null : (cacheDir != null ? cacheDir : Path.of(System.getProperty("user.home"), ".cache", "spherekit")))
                    .checkpointEvery(checkpointEvery).inputHeight(Integer.parseInt(hw[0]))
                    .inputWidth(Integer.parseInt(hw[1])).batchNorm(batchNorm).failOnCorrupt(failOnCorrupt)
                    .align(align).landmarksFile(landmarks).initFrom(initFrom).lambdaScheduleMode(lambdaSchedule).build();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (images == null && !Files.isDirectory(imageRoot)) {
            throw new Cli.Failure("LFW not found at " + root + " (expected lfw-deepfunneled/ inside); pass --lfw DIR, "
                    + "set " + LfwLocation.ENV + " or give --images DIR");
        }
        Trainer trainer = new Trainer(cfg, err0);
        Trainer.Result r = trainer.run(resume);
        Path model = out.resolve("model.zip");
        ModelIO.save(r.net(), r.metadata(), model, true);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("config", cfg);
        report.put("identities", r.numClasses());
        report.put("images", r.numImages());
        Map<String, Object> skipped = new LinkedHashMap<>();
        trainer.skipped().forEach((reason, files) -> skipped.put(reason, files.size()));
        report.put("skipped", skipped);
        report.put("skipped_files", trainer.skipped());
        report.put("iterations", r.iterations());
        report.put("final_loss_ema", r.finalLoss());
        report.put("train_seconds", r.trainSeconds());
        report.put("images_per_second", r.imagesPerSecond());
        report.put("parameters", r.net().numParams());
        report.put("model", model.toString());
        report.put("heldout", r.heldout());
        if (initFrom != null) {
            Map<String, Object> init = new LinkedHashMap<>();
            init.put("model", initFrom.toString());
            init.put("iterations", r.metadata().get(io.spherekit.core.ModelMetadata.Key.INIT_FROM_ITERATIONS.key()));
            init.put("head", r.metadata().get(io.spherekit.core.ModelMetadata.Key.INIT_FROM_HEAD.key()));
            init.put("lambda_schedule", r.metadata().get(io.spherekit.core.ModelMetadata.Key.INIT_FROM_LAMBDA.key()));
            init.put("lambda_offset", r.metadata().get(io.spherekit.core.ModelMetadata.Key.HEAD_LAMBDA_OFFSET.key()));
            report.put("init_from", init);
        }
        report.put("metadata", r.metadata());
        writeJsonAtomic(report, out.resolve("train-report.json"));
        out0.printf(Locale.ROOT, "trained %d iterations in %.1f s (%.1f img/s), final loss %.4f%nmodel: %s%n",
                r.iterations(), r.trainSeconds(), r.imagesPerSecond(), r.finalLoss(), model);
        return Cli.OK;
    }

    static void writeJsonAtomic(Object value, Path target) throws IOException {
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        om.findAndRegisterModules();
        Files.createDirectories(target.toAbsolutePath().getParent());
        AtomicFiles.writeString(target, om.writerWithDefaultPrettyPrinter().writeValueAsString(jsonSafe(value)));
    }

    private static Object jsonSafe(Object v) {
        if (v instanceof TrainConfig c) {
            Map<String, Object> m = new LinkedHashMap<>();
            c.toMap().forEach((k, x) -> m.put(k, x instanceof Path p ? p.toString() : x));
            return m;
        }
        if (v instanceof Map<?, ?> map) {
            Map<String, Object> m = new LinkedHashMap<>();
            map.forEach((k, x) -> m.put(String.valueOf(k), jsonSafe(x)));
            return m;
        }
        return v;
    }

    /**
     * Builds the command line with injectable streams and {@link Cli}'s conventions (tests drive the real CLI);
     * {@code execute} returns 0, 1 or 2.
     */
    public static CommandLine create(PrintStream out, PrintStream err) {
        return Cli.create(new TrainCli(out, err), out, err);
    }

    /**
     * Runs {@code train} and returns its exit code (never calls {@link System#exit}).
     *
     * @return 0 ok, 1 failure, 2 usage error
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return Cli.run(new TrainCli(out, err), args, out, err);
    }

    public static void main(String[] args) {
        Cli.exit(new TrainCli(System.out, System.err), args);
    }
}
