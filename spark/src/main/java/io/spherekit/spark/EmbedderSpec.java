package io.spherekit.spark;

import io.spherekit.core.ModelCard;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.TestTimeFlip;
import io.spherekit.core.SphereKitException;
import io.spherekit.core.align.AlignmentTemplate;
import io.spherekit.runtime.FaceDetector;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.Provider;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.apache.spark.SparkFiles;

/**
 * Everything an executor needs to open the same {@link FaceEmbedder} as the driver: sent to the executors with
 * each task (it is small and {@link Serializable}); the session itself is opened once per executor JVM by
 * {@link EmbedderHolder}.
 *
 * <p>Files are found on an executor by {@link #resolve}: the path as given when it exists there (a shared mount,
 * or local mode), else the file of the same name shipped with {@code spark-submit --files} ({@link SparkFiles}),
 * else that name in the working directory (YARN's container folder). The model's SHA-256, taken on the driver,
 * is checked on the executor, so a different file under the same name is refused instead of silently mixing
 * embeddings of two models.
 *
 * @param model           the ONNX embedding model as given on the driver
 * @param modelSha256     hex SHA-256 of the driver's model file
 * @param provider        ONNX Runtime execution provider
 * @param threads         ONNX Runtime intra-op threads per session (0 = ONNX Runtime's default)
 * @param align           {@code "crop"}, {@code "detect"}, or {@code null}: the model's own mode (its metadata
 *                        {@code spherekit.input.align})
 * @param detector        face detector model for the aligned mode, or {@code null} for
 *                        {@link FaceDetector#defaultModelPath()}
 * @param alignTemplate   alignment template name ({@link AlignmentTemplate#named}), or {@code null}
 * @param lfwPreprocessing use {@link Preprocessing#LFW_SPHEREFACE} when the model has no preprocessing metadata
 * @param card            the model card read on the driver (flags over the card file;
 *                        {@link FaceEmbedder.Builder#optModelCard}), or {@code null} for none
 * @param flip            the test-time flip ({@link FaceEmbedder.Builder#optFlip}), or {@code null}: the model's
 *                        metadata {@code spherekit.input.flip}, else none
 */
public record EmbedderSpec(String model, String modelSha256, Provider provider, int threads, String align,
                           String detector, String alignTemplate, boolean lfwPreprocessing, ModelCard card,
                           TestTimeFlip flip) implements Serializable {

    private static final long serialVersionUID = 1L;

    /**
     * @throws IllegalArgumentException if {@code threads < 0} or {@code align} is not crop, detect or null, or a
     *                                  detector / template is given without {@code align = detect}
     */
    public EmbedderSpec {
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        }
        if (align != null && !align.equals("crop") && !align.equals("detect")) {
            throw new IllegalArgumentException("align must be crop or detect, got " + align);
        }
        if (!"detect".equals(align) && (detector != null || alignTemplate != null)) {
            throw new IllegalArgumentException("a detector or alignment template needs align detect");
        }
    }

    /** A spec without model card and with the model's own flip mode. */
    public EmbedderSpec(String model, String modelSha256, Provider provider, int threads, String align,
                        String detector, String alignTemplate, boolean lfwPreprocessing) {
        this(model, modelSha256, provider, threads, align, detector, alignTemplate, lfwPreprocessing, null, null);
    }

    /**
     * A spec for a model file visible to the driver; hashes it.
     *
     * @param card the model card, or {@code null}
     * @param flip the test-time flip, or {@code null} for the model's own
     * @throws SphereKitException naming the model when it does not exist or cannot be read
     */
    public static EmbedderSpec of(Path model, Provider provider, int threads, String align, Path detector,
                                  String alignTemplate, boolean lfwPreprocessing, ModelCard card, TestTimeFlip flip)
            throws SphereKitException {
        if (!Files.isRegularFile(model)) {
            throw new SphereKitException("model " + model + " cannot be loaded: file does not exist");
        }
        return new EmbedderSpec(model.toString(), sha256(model), provider, threads, align,
                detector == null ? null : detector.toString(), alignTemplate, lfwPreprocessing, card, flip);
    }

    /**
     * Opens the embedder this spec describes, on the calling JVM (see the class comment for how files are found).
     *
     * @throws SphereKitException naming the file: not found on this machine, a different model than the driver's
     *                            (SHA-256), or not loadable
     */
    public FaceEmbedder open() throws SphereKitException {
        Path m = resolve(model, "model");
        String sha = sha256(m);
        if (!sha.equals(modelSha256)) {
            throw new SphereKitException("model " + m + " on this executor is not the driver's " + model
                    + ": SHA-256 " + sha + " here, " + modelSha256 + " on the driver");
        }
        FaceEmbedder.Builder b = FaceEmbedder.builder().setModelPath(m).optProvider(provider)
                .optIntraOpThreads(threads);
        if (lfwPreprocessing) {
            b.optPreprocessing(Preprocessing.LFW_SPHEREFACE);
        }
        b.optModelCard(card);
        b.optFlip(flip);
        Path det = detector == null ? null : resolve(detector, "face detector");
        if ("detect".equals(align)) {
            b.optDetector(FaceDetector.builder().optModelPath(det).optProvider(provider)
                    .optIntraOpThreads(threads).build());
            if (alignTemplate != null) {
                b.optAlignmentTemplate(AlignmentTemplate.named(alignTemplate));
            }
        } else if (align == null) {
            b.optDetectorIfModelAligned(FaceDetector.builder().optProvider(provider).optIntraOpThreads(threads));
        }
        return b.build();
    }

    /**
     * Finds a file on this JVM's machine: {@code given} itself, else the file of that name shipped with
     * {@code --files}, else that name in the working directory.
     *
     * @param what how the error names the file, e.g. "model"
     * @throws SphereKitException naming every place looked at
     */
    static Path resolve(String given, String what) throws SphereKitException {
        Path p = Path.of(given);
        if (Files.isRegularFile(p)) {
            return p;
        }
        String name = p.getFileName().toString();
        String shipped = null;
        try {
            shipped = SparkFiles.get(name);
        } catch (RuntimeException e) {
            // no SparkEnv on this JVM (not inside a Spark application): only the paths above and below apply
        }
        if (shipped != null && Files.isRegularFile(Path.of(shipped))) {
            return Path.of(shipped);
        }
        Path cwd = Path.of(name).toAbsolutePath();
        if (Files.isRegularFile(cwd)) {
            return cwd;
        }
        throw new SphereKitException(what + " " + given + " not found on this machine (looked at " + p
                + (shipped != null ? ", " + shipped : "") + ", " + cwd + "): ship it with spark-submit --files "
                + given + ", or put it on a path every node mounts");
    }

    /** @return hex SHA-256 of a file */
    static String sha256(Path file) throws SphereKitException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new SphereKitException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }
}
