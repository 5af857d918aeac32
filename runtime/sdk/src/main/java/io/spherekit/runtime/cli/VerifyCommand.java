package io.spherekit.runtime.cli;

import io.spherekit.core.cli.Cli;
import io.spherekit.runtime.FaceDetector;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.NoFaceException;
import io.spherekit.core.SphereKitException;
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

    @Option(names = "--face", paramLabel = "N",
            description = "With --align detect, the face to use in each image that holds several: 1 = the largest"
                    + " box (the default), 2 = the next largest, ... (the detector's order, by box area). Use"
                    + " --face-a/--face-b to pick per image.")
    Integer face;

    @Option(names = "--face-a", paramLabel = "N", description = "As --face, for image A only.")
    Integer faceA;

    @Option(names = "--face-b", paramLabel = "N", description = "As --face, for image B only.")
    Integer faceB;

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
        int pickA = faceA != null ? faceA : face != null ? face : 1;
        int pickB = faceB != null ? faceB : face != null ? face : 1;
        for (Integer f : new Integer[] {face, faceA, faceB}) {
            if (f != null && f < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--face, --face-a and --face-b count from 1 (the largest face), got " + f);
            }
        }
        if ((face != null || faceA != null || faceB != null) && modelOptions.align == ModelOptions.Align.crop) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--face, --face-a and --face-b need face detection, not --align crop");
        }
        try (FaceEmbedder embedder = modelOptions.open()) {
            if ((face != null || faceA != null || faceB != null) && embedder.detector() == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--face, --face-a and --face-b need"
                        + " face detection: pass --align detect (model " + modelOptions.model + " was not trained"
                        + " with --align detect, so it uses the fixed crop by default)");
            }
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
                // each image's largest face (or the one picked); say how many were found and which one was used
                List<FaceDetector.Face> fa = detector.detect(ia);
                List<FaceDetector.Face> fb = detector.detect(ib);
                FaceDetector.Face la = detector.refine(ia, pick(detector, fa, ia, a, pickA, "--face-a"));
                FaceDetector.Face lb = detector.refine(ib, pick(detector, fb, ib, b, pickB, "--face-b"));
                v = verifier.verify(embedder.embedFace(ia, la), embedder.embedFace(ib, lb));
                printFace(out, "A", fa.size(), pickA, la);
                printFace(out, "B", fb.size(), pickB, lb);
            }
            out.printf(Locale.ROOT, "score: %.6f%n", v.score());
            out.printf(Locale.ROOT, "decision: %s%n", v.same() ? "same" : "different");
            out.printf(Locale.ROOT, "threshold: %.6f (%s)%n", v.threshold(), verifier.thresholdSource());
            out.printf(Locale.ROOT, "provider: %s (%s)%n", embedder.provider(), embedder.providerReason());
            if (embedder.flip().needsMirror()) {
                out.printf(Locale.ROOT, "flip: %s%n", embedder.flip().id());
            }
            out.flush();
            return Cli.OK;
        }
    }

    /** Face {@code n} (1 = largest) of {@code faces}, or the largest's errors when there is none. */
    private FaceDetector.Face pick(FaceDetector detector, List<FaceDetector.Face> faces, BufferedImage img, Path file,
                                   int n, String option) throws SphereKitException {
        if (n == 1 || faces.isEmpty()) {
            return detector.largest(faces, img, file.toString());
        }
        if (n > faces.size()) {
            throw new SphereKitException("face " + n + " asked for in " + file + " (" + option + " or --face), but"
                    + " it holds " + faces.size() + (faces.size() == 1 ? " face" : " faces"));
        }
        FaceDetector.Face f = faces.get(n - 1);
        if (f.width() < FaceDetector.MIN_FACE_PIXELS) {
            throw new NoFaceException(String.format(Locale.ROOT, "face too small in %s: face %d is %.0f px wide, at"
                    + " least %d px are needed", file, n, f.width(), FaceDetector.MIN_FACE_PIXELS),
                    NoFaceException.Reason.FACE_TOO_SMALL);
        }
        return f;
    }

    private static void printFace(PrintWriter out, String which, int found, int used, FaceDetector.Face f) {
        String how = used == 1 ? (found > 1 ? "the largest" : "it") : "face " + used + " (by size)";
        out.printf(Locale.ROOT, "face %s: %d found, %s used: box %.0f,%.0f %.0fx%.0f, score %.3f%n", which, found,
                how, f.x(), f.y(), f.width(), f.height(), f.score());
    }
}
