package io.spherekit.runtime.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spherekit.core.Images;
import io.spherekit.core.SphereKitException;
import io.spherekit.core.cli.Cli;
import io.spherekit.core.io.AtomicFiles;
import io.spherekit.runtime.FaceDetector;
import io.spherekit.runtime.NoFaceException;
import io.spherekit.runtime.Provider;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code spherekit landmarks --root DIR [--files LIST] --out landmarks.json}: runs the {@link FaceDetector} on
 * every image and records, per image, the four alignment points of its largest face (the points
 * {@code FaceEmbedder} aligns with: eye on the image's left, eye on the image's right, nose tip, mouth centre;
 * continuous source-pixel coordinates) or why it has none. The trainer's {@code --align detect} reads this file,
 * so training and serving align with the same detector (the trainer does not load ONNX Runtime).
 *
 * <p>Output (written atomically), {@code format} {@value #FORMAT}:
 * <pre>{@code
 * {"format": "spherekit-landmarks-1",
 *  "detector": {"file": "face_detection_front_128x128.onnx", "sha256": "..."},
 *  "images": {"Aaron_Peirsol/Aaron_Peirsol_0001.jpg":
 *                 {"score": 0.93, "box": [x, y, w, h], "points": [[x, y], [x, y], [x, y], [x, y]]},
 *             "X/X_0002.gif": {"skip": "no_face", "message": "no face found in ..."}}}
 * }</pre>
 * Image keys are paths relative to {@code --root}, '/'-separated. {@code skip} is one of {@value #NO_FACE},
 * {@value #FACE_TOO_SMALL} (the largest face is narrower than {@link FaceDetector#MIN_FACE_PIXELS}),
 * {@value #UNDECODABLE} (not a readable image) or {@value #UNSUPPORTED} (a file-name suffix no image reader
 * handles, see {@link Images#readableSuffixes()}).
 */
@Command(name = "landmarks", mixinStandardHelpOptions = true,
        description = {"Detect the largest face in every image under a folder and write its alignment points"
                + " (eyes, nose, mouth centre) or why it has none, as JSON (what 'train --align detect' reads).",
            "Relative paths are taken from the current folder."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:written (images without a face are recorded, not errors)",
            "1:failure (root missing, detector missing, I/O error)", "2:usage error"})
public final class LandmarksCommand implements Callable<Integer> {

    /** The {@code format} value of the file. */
    public static final String FORMAT = "spherekit-landmarks-1";
    /** Skip reason: the detector found no face. */
    public static final String NO_FACE = "no_face";
    /** Skip reason: the largest face is too small. */
    public static final String FACE_TOO_SMALL = "face_too_small";
    /** Skip reason: the file is not a decodable image. */
    public static final String UNDECODABLE = "undecodable";
    /** Skip reason: no image reader handles the file's suffix. */
    public static final String UNSUPPORTED = "unsupported_format";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--root", required = true, paramLabel = "DIR",
            description = "Image folder (e.g. person-per-folder); keys in the output are relative to it.")
    Path root;

    @Option(names = "--files", paramLabel = "LIST",
            description = "Text file of image paths relative to --root, one per line (default: every file in"
                    + " --root and its sub-folders).")
    Path files;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output JSON file.")
    Path out;

    @Option(names = "--detector", paramLabel = "DETECTOR.onnx",
            description = "Face detector (default: -D" + FaceDetector.MODEL_PROPERTY
                    + ", else runtime/sdk/target/detector/face_detection_front_128x128.onnx, which the build"
                    + " fetches).")
    Path detector;

    @Option(names = "--provider", defaultValue = "auto", paramLabel = "auto|cuda|cpu",
            description = "Execution provider (default: ${DEFAULT-VALUE}).")
    Provider provider;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
            description = "ONNX Runtime intra-op threads (0 = ONNX Runtime's default).")
    int threads;

    @Override
    public Integer call() throws Exception {
        if (threads < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be >= 0, got " + threads);
        }
        if (!Files.isDirectory(root)) {
            throw new Cli.Failure("--root " + root + " is not a directory");
        }
        List<String> rel = files != null ? readList(files) : listAll(root);
        Set<String> suffixes = Images.readableSuffixes();
        PrintWriter err = spec.commandLine().getErr();
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode doc = om.createObjectNode();
        doc.put("format", FORMAT);
        TreeMap<String, Integer> counts = new TreeMap<>();
        try (FaceDetector d = FaceDetector.builder().optModelPath(detector).optProvider(provider)
                .optIntraOpThreads(threads).build()) {
            ObjectNode det = doc.putObject("detector");
            det.put("file", d.modelPath().getFileName().toString());
            det.put("sha256", sha256(d.modelPath()));
            ObjectNode images = doc.putObject("images");
            int done = 0;
            for (String r : rel) {
                Path p = root.resolve(r);
                ObjectNode e = images.putObject(r);
                String reason = record(d, p, suffixes, e);
                counts.merge(reason == null ? "face" : reason, 1, Integer::sum);
                if (++done % 200 == 0 || done == rel.size()) {
                    err.printf(Locale.ROOT, "\rlandmarks: %d/%d images", done, rel.size());
                    err.flush();
                }
            }
            if (!rel.isEmpty()) {
                err.println();
            }
        }
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        AtomicFiles.writeString(out, om.writeValueAsString(doc));
        PrintWriter o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "landmarks: %d images, %s%nwrote %s%n", rel.size(), counts, out);
        o.flush();
        return Cli.OK;
    }

    /** Fills {@code e} for one image; returns the skip reason or null when a face was found. */
    private static String record(FaceDetector d, Path p, Set<String> suffixes, ObjectNode e)
            throws SphereKitException {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String suffix = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
        if (!suffixes.contains(suffix)) {
            return skip(e, UNSUPPORTED, "unsupported image format '" + suffix + "' (" + p + "); readable: "
                    + String.join(",", suffixes));
        }
        BufferedImage img;
        try {
            img = Images.read(p);
        } catch (IOException x) {
            return skip(e, UNDECODABLE, x.getMessage());
        }
        FaceDetector.Face f;
        try {
            f = d.detectLargest(img, p.toString());
        } catch (NoFaceException x) {
            return skip(e, x.getMessage().startsWith("face too small") ? FACE_TOO_SMALL : NO_FACE, x.getMessage());
        }
        e.put("score", f.score());
        e.putArray("box").add(f.x()).add(f.y()).add(f.width()).add(f.height());
        ArrayNode pts = e.putArray("points");
        for (double[] q : f.alignmentPoints()) {
            pts.addArray().add(q[0]).add(q[1]);
        }
        return null;
    }

    private static String skip(ObjectNode e, String reason, String message) {
        e.put("skip", reason);
        e.put("message", message);
        return reason;
    }

    private static List<String> readList(Path list) throws IOException {
        if (!Files.isRegularFile(list)) {
            throw new Cli.Failure("--files " + list + " does not exist");
        }
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(list)) {
            String s = line.strip();
            if (!s.isEmpty()) {
                out.add(s.replace('\\', '/'));
            }
        }
        return out;
    }

    private static List<String> listAll(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).map(p -> root.relativize(p).toString().replace('\\', '/'))
                    .sorted().toList();
        }
    }

    /** SHA-256 of a file, 64 lower-case hex digits. */
    static String sha256(Path file) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            try (InputStream in = Files.newInputStream(file)) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    md.update(buf, 0, n);
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException x) {
            throw new IllegalStateException(x);
        }
    }
}
