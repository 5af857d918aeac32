package io.spherekit.runtime.cli;

import io.spherekit.core.cli.Cli;
import io.spherekit.runtime.FaceDetector;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.core.Images;
import java.awt.image.BufferedImage;
import java.util.List;
import io.spherekit.runtime.Verification;
import io.spherekit.runtime.Verifier;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code spherekit verify --model m.onnx [--threshold t] A B}. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Decide whether two face images show the same person (cosine >= threshold).")
public final class VerifyCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--threshold", paramLabel = "T",
            description = "Cosine threshold in [-1,1]; default: the model's metadata spherekit.threshold.")
    Double threshold;

    @Parameters(index = "0", paramLabel = "A", description = "First image.")
    Path a;

    @Parameters(index = "1", paramLabel = "B", description = "Second image.")
    Path b;

    @Override
    public Integer call() throws Exception {
        if (threshold != null && !(threshold >= -1 && threshold <= 1)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--threshold must be a cosine in [-1,1], got " + threshold);
        }
        try (FaceEmbedder embedder = modelOptions.open()) {
            Verifier verifier;
            if (threshold != null) {
                verifier = Verifier.withThreshold(embedder, threshold);
            } else if (embedder.metadata().containsKey(Verifier.THRESHOLD_KEY)) {
                verifier = Verifier.fromModelMetadata(embedder);
            } else {
                throw new CommandLine.ParameterException(spec.commandLine(), "model " + modelOptions.model
                        + " has no metadata " + Verifier.THRESHOLD_KEY + "; pass --threshold");
            }
            BufferedImage ia = Images.read(a);
            BufferedImage ib = Images.read(b);
            PrintWriter out = spec.commandLine().getOut();
            Verification v;
            FaceDetector detector = embedder.detector();
            if (detector == null) {
                v = verifier.verify(ia, a.toString(), ib, b.toString());
            } else {
                // each image's largest face; say how many were found and which one was used
                List<FaceDetector.Face> fa = detector.detect(ia);
                List<FaceDetector.Face> fb = detector.detect(ib);
                FaceDetector.Face la = detector.refine(ia, detector.largest(fa, ia, a.toString()));
                FaceDetector.Face lb = detector.refine(ib, detector.largest(fb, ib, b.toString()));
                v = verifier.verify(embedder.embedFace(ia, la), embedder.embedFace(ib, lb));
                printFace(out, "A", fa.size(), la);
                printFace(out, "B", fb.size(), lb);
            }
            out.printf(Locale.ROOT, "score: %.6f%n", v.score());
            out.printf(Locale.ROOT, "decision: %s%n", v.same() ? "same" : "different");
            out.printf(Locale.ROOT, "threshold: %.6f (%s)%n", v.threshold(), verifier.thresholdSource());
            out.printf(Locale.ROOT, "provider: %s (%s)%n", embedder.provider(), embedder.providerReason());
            out.flush();
            return Cli.OK;
        }
    }

    private static void printFace(PrintWriter out, String which, int found, FaceDetector.Face f) {
        out.printf(Locale.ROOT, "face %s: %d found, %s used: box %.0f,%.0f %.0fx%.0f, score %.3f%n", which, found,
                found > 1 ? "the largest" : "it", f.x(), f.y(), f.width(), f.height(), f.score());
    }
}
