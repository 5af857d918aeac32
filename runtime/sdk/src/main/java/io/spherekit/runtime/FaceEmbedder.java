package io.spherekit.runtime;

import io.spherekit.core.ModelCard;
import io.spherekit.core.ModelMetadata;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.SphereKitException;
import io.spherekit.core.TestTimeFlip;
import io.spherekit.core.align.AlignmentTemplate;
import io.spherekit.core.io.AtomicFiles;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns face images into embedding vectors with one ONNX Runtime session.
 *
 * <p>Model contract, checked at load: exactly one input, a float tensor {@code [N, 3, H, W]} (NCHW; N symbolic
 * or fixed), and exactly one output, a float tensor {@code [N, D]}. When the model fixes H and W they must equal
 * the {@link Preprocessing}'s height and width. Without test-time flip, embeddings are returned raw (not
 * L2-normalised); compare them with {@link Similarity#cosine}.
 *
 * <p>Test-time flip ({@link TestTimeFlip}, {@link Builder#optFlip}): with {@code SUM} or {@code CONCAT} every
 * input is embedded twice in the same batch, as is and mirrored left-right (column {@code x} of each channel plane
 * becomes column {@code W−1−x} of the model input, i.e. after cropping or alignment), and the two embeddings are
 * combined as {@link TestTimeFlip#combine} describes: unit length, and {@link #embeddingDim()} = 2·D for
 * {@code CONCAT}. The default is the model's metadata {@link ModelMetadata.Key#INPUT_FLIP}, else {@code NONE},
 * so a model whose threshold was calibrated with flip is served with it; {@link #modelEmbeddingDim()} stays the
 * model's D.
 *
 * <p>Preprocessing is taken from the model's {@code metadata_props} ({@code spherekit.input.*}, see
 * {@link Preprocessing#fromMetadata}) when present, else from {@link Builder#optPreprocessing}; with neither,
 * {@link Builder#build()} fails. A {@link Builder#optModelCard model card} overrides either field by field (a
 * model without SphereKit metadata, e.g. an ArcFace-style {@code [1,3,112,112]} network).
 *
 * <p>Fixed-batch models (input {@code [B,3,H,W]} with a fixed {@code B}) are fed in chunks of exactly {@code B}
 * images; the last chunk is zero-padded to {@code B} and the padding's outputs are dropped.
 *
 * <p>Alignment: with {@link Builder#optDetector}, every image is first run through the {@link FaceDetector}, its
 * largest face is aligned onto the model's {@link AlignmentTemplate} ({@link Preprocessing#alignResize}) and then
 * normalised as usual; an image without a usable face gets a {@link NoFaceException} naming it. The template is
 * {@link Builder#optAlignmentTemplate}'s, else the model's metadata {@link Preprocessing#ALIGN_TEMPLATE_KEY}, else
 * the built-in one for the input size (112×96 SphereFace, 112×112 ArcFace). Without a detector, the fixed crop of
 * the {@link Preprocessing} applies.
 *
 * <p>Thread safety: one instance (one native session) may be shared by any number of threads; ONNX Runtime's
 * {@code run} is thread-safe. {@link #close()} waits for running calls to finish, is idempotent, and any later
 * call throws {@link IllegalStateException}.
 *
 * <p>Native libraries: ONNX Runtime loads its native code from the jar on the classpath ({@code onnxruntime}
 * for CPU, {@code onnxruntime_gpu} for CUDA 12 + cuDNN 9). To use a site's own build, for example one built for
 * CUDA 13, start the JVM with {@code -Donnxruntime.native.path=/dir/with/libonnxruntime.so} (the directory must
 * also hold {@code libonnxruntime4j_jni.so} and, for CUDA, the provider libraries
 * {@code libonnxruntime_providers_shared.so} and {@code libonnxruntime_providers_cuda.so}).
 *
 * <pre>{@code
 * try (FaceEmbedder e = FaceEmbedder.builder().setModelPath(Path.of("sphereface.onnx")).build()) {
 *     float[] v = e.embed(Images.read(Path.of("face.jpg")));
 * }
 * }</pre>
 */
public final class FaceEmbedder implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(FaceEmbedder.class);
    /** {@link #providerReason()} of {@link Provider#AUTO} on an ONNX Runtime build without the CUDA provider. */
    static final String CPU_BUILD_REASON = "ONNX Runtime CPU build, which has no CUDA provider";
    /** Start of {@link #providerReason()} when {@link Provider#AUTO} tried CUDA and fell back; the load error follows. */
    static final String CUDA_FALLBACK_REASON = "CUDA unavailable, fell back to CPU: ";
    /** ONNX Runtime session config key: whether idle intra-op threads spin ("1", ORT's default) or sleep ("0"). */
    static final String ALLOW_SPINNING = "session.intra_op.allow_spinning";
    private static final String CUDA_NEEDS = "It needs the onnxruntime_gpu jar (mvn -Pgpu) with CUDA 12 and cuDNN 9"
            + " libraries on the library path, or a custom ONNX Runtime build selected with"
            + " -Donnxruntime.native.path=DIR; use provider CPU or AUTO to run on the CPU";

    private final Path modelPath;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final String inputName;
    private final long fixedBatch;
    private final int embeddingDim;
    private final int modelEmbeddingDim;
    private final TestTimeFlip flip;
    private final Preprocessing preprocessing;
    private final Map<String, String> metadata;
    private final ModelMetadata modelMetadata;
    private final Provider provider;
    private final String providerReason;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;
    private final FaceDetector detector;
    private final AlignmentTemplate alignmentTemplate;

    private FaceEmbedder(Builder b) throws SphereKitException {
        this.modelPath = b.modelPath;
        if (!Files.isRegularFile(modelPath)) {
            throw new SphereKitException("model " + modelPath + " cannot be loaded: file does not exist");
        }
        this.env = LargeStack.environment();
        Opened opened = open(b);
        this.session = opened.session;
        this.provider = opened.provider;
        this.providerReason = opened.reason;
        FaceDetector[] auto = {null}; // opened here when the model was trained aligned (optDetectorIfModelAligned)
        try {
            this.metadata = Collections.unmodifiableMap(new TreeMap<>(session.getMetadata().getCustomMetadata()));
            try {
                this.modelMetadata = ModelMetadata.parse(metadata);
            } catch (IllegalArgumentException e) {
                throw new SphereKitException("model " + modelPath + " has malformed metadata: " + e.getMessage(), e);
            }
            Map<String, NodeInfo> inputs = session.getInputInfo();
            Map<String, NodeInfo> outputs = session.getOutputInfo();
            if (inputs.size() != 1) {
                throw invalid("exactly one input [N,3,H,W] float", inputs.size() + " inputs " + describe(inputs));
            }
            NodeInfo in = inputs.values().iterator().next();
            this.inputName = in.getName();
            long[] inShape = tensorShape(in, "input");
            if (inShape.length != 4) {
                throw invalid("input '" + inputName + "' of rank 4 [N,3,H,W] float",
                        "rank " + inShape.length + " " + Arrays.toString(inShape));
            }
            if (inShape[1] >= 0 && inShape[1] != 3) {
                throw invalid("input '" + inputName + "' with 3 channels [N,3,H,W]",
                        "shape " + Arrays.toString(inShape));
            }
            int[] fixedHw = inShape[2] > 0 && inShape[3] > 0 ? new int[] {(int) inShape[2], (int) inShape[3]} : null;
            this.preprocessing = resolvePreprocessing(b.preprocessing, b.card, fixedHw);
            if (b.detector == null && b.detectorIfAligned != null && trainedAligned(modelMetadata)) {
                auto[0] = b.detectorIfAligned.build();
            }
            this.detector = b.detector != null ? b.detector : auto[0];
            this.alignmentTemplate = detector == null ? null
                    : resolveTemplate(b.alignmentTemplate != null ? b.alignmentTemplate
                            : b.card == null ? null : b.card.alignTemplate());
            if ((inShape[2] >= 0 && inShape[2] != preprocessing.height())
                    || (inShape[3] >= 0 && inShape[3] != preprocessing.width())) {
                throw invalid("input H,W matching the preprocessing " + preprocessing.height() + "x"
                        + preprocessing.width(), "input '" + inputName + "' shape " + Arrays.toString(inShape));
            }
            this.fixedBatch = inShape[0] > 0 ? inShape[0] : -1;
            if (outputs.size() != 1) {
                throw invalid("exactly one output [N,D] float", outputs.size() + " outputs " + describe(outputs));
            }
            NodeInfo out = outputs.values().iterator().next();
            long[] outShape = tensorShape(out, "output");
            if (outShape.length != 2) {
                throw invalid("output '" + out.getName() + "' of rank 2 [N,D] float",
                        "rank " + outShape.length + " " + Arrays.toString(outShape));
            }
            this.modelEmbeddingDim = outShape[1] > 0 ? (int) outShape[1] : probeDim();
            this.flip = b.flip != null ? b.flip : modelMetadata.flip();
            this.embeddingDim = flip.outputDim(modelEmbeddingDim);
        } catch (SphereKitException | RuntimeException e) {
            closeQuietly();
            closeDetector(b.detector);
            closeDetector(auto[0]);
            throw e;
        } catch (OrtException e) {
            closeQuietly();
            closeDetector(b.detector);
            closeDetector(auto[0]);
            throw new SphereKitException("model " + modelPath + " cannot be inspected: " + e.getMessage(), e);
        }
        LOG.debug("loaded {} on {} ({}): input {} -> {}-d embedding (flip {}), {}", modelPath, provider,
                providerReason, inputName, embeddingDim, flip.id(), preprocessing);
    }

    /** A session and the provider it runs on; {@link FaceDetector} opens its model through {@link #open} too. */
    record Opened(OrtSession session, Provider provider, String reason) { }

    /**
     * Opens {@code b}'s model with the provider handling of this class ({@link Provider}: AUTO falls back to CPU
     * with a WARN and the reason, CUDA never falls back). Shared with {@link FaceDetector}.
     */
    static Opened open(Builder b) throws SphereKitException {
        Path modelPath = b.modelPath;
        if (b.provider == Provider.CPU) {
            return new Opened(createCpuSession(b), Provider.CPU, "CPU requested");
        }
        Set<OrtProvider> inBuild = b.buildProviders != null ? b.buildProviders : OrtEnvironment.getAvailableProviders();
        if (!inBuild.contains(OrtProvider.CUDA)) {
            if (b.provider == Provider.CUDA) {
                throw new SphereKitException("CUDA execution provider cannot be used for model " + modelPath
                        + ": this is the ONNX Runtime CPU build (execution providers " + inBuild + "). " + CUDA_NEEDS);
            }
            LOG.info("ONNX Runtime CPU build: running on CPU ({})", modelPath.getFileName());
            return new Opened(createCpuSession(b), Provider.CPU, CPU_BUILD_REASON);
        }
        try {
            return new Opened(createSession(b, true), Provider.CUDA,
                    b.provider == Provider.AUTO ? "CUDA device 0 (auto)" : "CUDA device 0 requested");
        } catch (CudaUnavailable e) {
            if (b.provider == Provider.CUDA) {
                throw new SphereKitException("CUDA execution provider cannot be used for model " + modelPath + ": "
                        + e.getMessage() + ". " + CUDA_NEEDS, e.getCause());
            }
            String reason = CUDA_FALLBACK_REASON + e.getMessage();
            LOG.warn("{}: {}", modelPath, reason);
            return new Opened(createCpuSession(b), Provider.CPU, reason);
        }
    }

    /** Signals that the CUDA provider (not the model) failed, so AUTO may fall back. */
    private static final class CudaUnavailable extends Exception {
        private static final long serialVersionUID = 1L;

        CudaUnavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static OrtSession createCpuSession(Builder b) throws SphereKitException {
        try {
            return createSession(b, false);
        } catch (CudaUnavailable e) {
            throw new AssertionError("CPU session reported a CUDA failure", e);
        }
    }

    private static OrtSession createSession(Builder b, boolean cuda) throws SphereKitException, CudaUnavailable {
        Path modelPath = b.modelPath;
        OrtEnvironment env = LargeStack.environment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            if (b.intraOpThreads > 0) {
                opts.setIntraOpNumThreads(b.intraOpThreads);
            }
            if (b.sessionLogLevel != null) {
                opts.setSessionLogLevel(b.sessionLogLevel);
            }
            if (b.graphOptimization != null) {
                opts.setOptimizationLevel(b.graphOptimization.ort());
            }
            if (b.intraOpSpinning != null) {
                opts.addConfigEntry(ALLOW_SPINNING, b.intraOpSpinning ? "1" : "0");
            }
            if (cuda) {
                try {
                    opts.addCUDA(0);
                } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
                    throw new CudaUnavailable(firstLine(e), e);
                }
            }
            try {
                if (b.saveOptimizedModel != null) {
                    return createSaving(b, env, opts);
                }
                return LargeStack.call("ort-session-init", () -> env.createSession(modelPath.toString(), opts));
            } catch (OrtException e) {
                if (cuda && isProviderError(e)) {
                    throw new CudaUnavailable(firstLine(e), e);
                }
                throw new SphereKitException("model " + modelPath + " cannot be loaded (not a valid ONNX model?): "
                        + firstLine(e), e);
            }
        } catch (OrtException e) {
            throw new SphereKitException("ONNX Runtime session options failed: " + firstLine(e), e);
        } catch (SphereKitException | CudaUnavailable | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new SphereKitException("model " + modelPath + " cannot be loaded: " + firstLine(e), e);
        }
    }

    /**
     * Creates the session with ORT writing the optimised graph into a temporary file that {@link AtomicFiles} then
     * renames over {@link Builder#optSaveOptimizedModel}'s path: the saved model appears complete or not at all.
     *
     * @throws OrtException       the session failed (the target is left untouched)
     * @throws SphereKitException the optimised model could not be written (the session is closed)
     */
    private static OrtSession createSaving(Builder b, OrtEnvironment env, OrtSession.SessionOptions opts)
            throws Exception {
        OrtSession[] created = {null};
        OrtException[] failed = {null};
        try {
            AtomicFiles.writeFile(b.saveOptimizedModel, tmp -> {
                try {
                    opts.setOptimizedModelFilePath(tmp.toString());
                    opts.addConfigEntry("session.save_model_format", "ONNX"); // not by the file name's extension
                    created[0] = LargeStack.call("ort-session-init",
                            () -> env.createSession(b.modelPath.toString(), opts));
                } catch (OrtException e) {
                    failed[0] = e;
                    throw new IOException(firstLine(e), e);
                } catch (IOException | RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IOException(firstLine(e), e);
                }
                if (Files.size(tmp) == 0) {
                    throw new IOException("ONNX Runtime wrote no optimised model");
                }
            });
        } catch (IOException e) {
            if (failed[0] != null) {
                throw failed[0];
            }
            if (created[0] != null) {
                created[0].close();
            }
            throw new SphereKitException("model " + b.modelPath + ": the optimised model cannot be saved: "
                    + e.getMessage(), e);
        }
        LOG.info("{}: ONNX Runtime's optimised graph ({}) saved to {}", b.modelPath,
                b.graphOptimization == null ? GraphOptimization.ALL : b.graphOptimization, b.saveOptimizedModel);
        return created[0];
    }

    private static boolean isProviderError(OrtException e) {
        String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        return m.contains("cuda") || m.contains("cudnn") || m.contains("provider") || m.contains("shared library");
    }

    static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private Preprocessing resolvePreprocessing(Preprocessing explicit, ModelCard card, int[] fixedHw)
            throws SphereKitException {
        Preprocessing fromModel = modelMetadata.preprocessing().orElse(null);
        if (card != null) {
            try {
                return card.resolve(fromModel != null ? fromModel : explicit, fixedHw);
            } catch (ModelCard.IncompleteException e) {
                throw new IncompletePreprocessingException("model " + modelPath + " has no preprocessing: its"
                        + " metadata_props hold no " + ModelMetadata.PREFIX + "input.* keys and the model card gives"
                        + " no " + String.join(", ", e.missing().stream().map(ModelCard.Field::json).toList()), e);
            } catch (IllegalArgumentException e) {
                throw new SphereKitException("model " + modelPath + ": the model card does not form a valid"
                        + " preprocessing: " + e.getMessage(), e);
            }
        }
        if (fromModel != null) {
            if (explicit != null && !explicit.equals(fromModel)) {
                LOG.warn("{}: model metadata preprocessing {} overrides the given {}", modelPath, fromModel, explicit);
            }
            return fromModel;
        }
        if (explicit != null) {
            return explicit;
        }
        throw new SphereKitException("model " + modelPath + " has no preprocessing: its metadata_props hold no "
                + ModelMetadata.PREFIX + "input.* keys (e.g. " + ModelMetadata.Key.INPUT_HEIGHT
                + ") and none was given with optPreprocessing or optModelCard");
    }

    /**
     * A model without preprocessing metadata whose {@link ModelCard} lacks required fields; {@link #missing()}
     * lists them (the command line names its flags from it).
     */
    public static final class IncompletePreprocessingException extends SphereKitException {
        private static final long serialVersionUID = 1L;
        private final transient List<ModelCard.Field> missing;

        IncompletePreprocessingException(String message, ModelCard.IncompleteException cause) {
            super(message, cause);
            this.missing = cause.missing();
        }

        /** @return the card fields that were needed and not given */
        public List<ModelCard.Field> missing() {
            return missing;
        }
    }

    private AlignmentTemplate resolveTemplate(AlignmentTemplate explicit) throws SphereKitException {
        AlignmentTemplate t = explicit;
        if (t == null) {
            try {
                t = AlignmentTemplate.fromMetadata(metadata);
            } catch (IllegalArgumentException e) {
                throw new SphereKitException("model " + modelPath + ": metadata " + Preprocessing.ALIGN_TEMPLATE_KEY
                        + ": " + e.getMessage(), e);
            }
        }
        if (t == null) {
            t = AlignmentTemplate.forInputSize(preprocessing.height(), preprocessing.width());
        }
        if (t == null) {
            throw new SphereKitException("model " + modelPath + " has no alignment template for its "
                    + preprocessing.height() + "x" + preprocessing.width() + " input: set metadata "
                    + Preprocessing.ALIGN_TEMPLATE_KEY + " or give one with optAlignmentTemplate");
        }
        if (t.height() != preprocessing.height() || t.width() != preprocessing.width()) {
            throw new SphereKitException("alignment template " + t.name() + " is " + t.height() + "x" + t.width()
                    + " but model " + modelPath + " takes " + preprocessing.height() + "x" + preprocessing.width());
        }
        return t;
    }

    private static void closeDetector(FaceDetector d) {
        if (d != null) {
            d.close();
        }
    }

    private SphereKitException invalid(String expected, String found) {
        return new SphereKitException("model " + modelPath + " does not fit the face-embedder contract: expected "
                + expected + ", found " + found);
    }

    private long[] tensorShape(NodeInfo node, String what) throws SphereKitException {
        ValueInfo info = node.getInfo();
        if (!(info instanceof TensorInfo t)) {
            throw invalid(what + " '" + node.getName() + "' to be a float tensor", info.toString());
        }
        if (t.type != OnnxJavaType.FLOAT) {
            throw invalid(what + " '" + node.getName() + "' of element type float", "type " + t.type);
        }
        return t.getShape();
    }

    private static String describe(Map<String, NodeInfo> nodes) {
        StringBuilder sb = new StringBuilder("[");
        for (NodeInfo n : nodes.values()) {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(n.getName());
            if (n.getInfo() instanceof TensorInfo t) {
                sb.append(' ').append(t.type).append(Arrays.toString(t.getShape()));
            }
        }
        return sb.append(']').toString();
    }

    private int probeDim() throws SphereKitException {
        int n = fixedBatch > 0 ? (int) fixedBatch : 1;
        float[][] out = run(new float[n * preprocessing.tensorSize()], n);
        return out[0].length;
    }

    private void closeQuietly() {
        try {
            session.close();
        } catch (OrtException e) {
            LOG.debug("closing session failed", e);
        }
    }

    /** @return a new builder; {@link Builder#setModelPath} is required */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Embeds one image.
     *
     * @param image any decoded image (see {@link Images#read}); it is cropped, resized and normalised by
     *              {@link #preprocessing()}
     * @return the embedding, length {@link #embeddingDim()}
     * @throws SphereKitException    if inference fails
     * @throws IllegalStateException after {@link #close()}
     */
    public float[] embed(BufferedImage image) throws SphereKitException {
        return embed(image, "image");
    }

    /**
     * Embeds one image, naming it in errors.
     *
     * @param image decoded image
     * @param name  how errors name it, e.g. its file
     * @return the embedding, length {@link #embeddingDim()}
     * @throws NoFaceException       with a detector, when the image has no usable face
     * @throws SphereKitException    if inference fails
     * @throws IllegalStateException after {@link #close()}
     */
    public float[] embed(BufferedImage image, String name) throws SphereKitException {
        Objects.requireNonNull(image, "image");
        float[] t = new float[preprocessing.tensorSize()];
        preprocessing.normalizeInto(preprocess(image, name), false, t, 0);
        return embedTensor(t, 1)[0];
    }

    /**
     * The model-input pixels of one image: the largest detected face aligned onto the template (with a
     * detector), else the fixed crop.
     *
     * @return {@code height·width·3} RGB bytes, HWC (see {@link Preprocessing#normalizeInto})
     * @throws NoFaceException    with a detector, when the image has no usable face
     * @throws SphereKitException if detection fails
     */
    public byte[] preprocess(BufferedImage image, String name) throws SphereKitException {
        return prepare(image, name).pixels();
    }

    /**
     * The model-input pixels of one image and the face they were aligned from.
     *
     * @param pixels {@code height·width·3} RGB bytes, HWC (see {@link Preprocessing#normalizeInto})
     * @param face   the largest detected face, in the image's pixel coordinates; {@code null} in the fixed-crop mode
     */
    public record Prepared(byte[] pixels, FaceDetector.Face face) {
    }

    /**
     * As {@link #preprocess}, also returning the detected face (for callers that record the face box, e.g. batch
     * embedding jobs).
     *
     * @throws NoFaceException    with a detector, when the image has no usable face; in either mode when the
     *                            model-input pixels are uniform
     * @throws SphereKitException if detection fails
     */
    public Prepared prepare(BufferedImage image, String name) throws SphereKitException {
        FaceDetector.Face face = detector == null ? null : detector.detectLargest(image, name);
        byte[] px = face == null ? preprocessing.cropResize(image) : alignFace(image, face);
        refuseUniform(px, name);
        return new Prepared(px, face);
    }

    /**
     * Smallest standard deviation, in 0..255 levels, that the model-input pixels of an image must have in at
     * least one channel (R, G or B, each taken over all pixels): a blank or uniform image (or crop), of any
     * colour, falls below it and has no face. A real face crop has tens of levels (LFW: above 20); a flat image
     * with a one-level dither has 0.5.
     */
    public static final double MIN_PIXEL_STD = 2.0;

    /**
     * Refuses model-input pixels that are (nearly) uniform: the largest per-channel standard deviation
     * ({@link #pixelStd}) is below {@link #MIN_PIXEL_STD}, so no face can be in them and any embedding would be
     * meaningless (two blank images would otherwise "match" at cosine 1).
     *
     * @param hwc  model-input RGB bytes, HWC
     * @param name how errors name the image
     * @throws NoFaceException "no face found in NAME: uniform image (...)"
     */
    static void refuseUniform(byte[] hwc, String name) throws NoFaceException {
        double std = pixelStd(hwc);
        if (std < MIN_PIXEL_STD) {
            throw new NoFaceException(String.format(Locale.ROOT, "no face found in %s: uniform image (pixel standard"
                    + " deviation %.2f < %.1f levels in every channel)", name, std, MIN_PIXEL_STD),
                    NoFaceException.Reason.UNIFORM_IMAGE);
        }
    }

    /**
     * The largest of the three channels' population standard deviations of HWC RGB bytes (as 0..255).
     *
     * @param hwc length a multiple of 3
     */
    static double pixelStd(byte[] hwc) {
        double best = 0;
        int n = hwc.length / 3;
        for (int c = 0; c < 3; c++) {
            double sum = 0;
            double sq = 0;
            for (int i = c; i < hwc.length; i += 3) {
                int v = hwc[i] & 0xFF;
                sum += v;
                sq += (double) v * v;
            }
            double mean = sum / n;
            best = Math.max(best, Math.sqrt(Math.max(0, sq / n - mean * mean)));
        }
        return best;
    }

    /** Whether the model's metadata says it was trained on detected, aligned faces ({@code input.align=detect}). */
    static boolean trainedAligned(ModelMetadata m) {
        return m.get(ModelMetadata.Key.INPUT_ALIGN).map("detect"::equals).orElse(false);
    }

    /**
     * Embeds a given detected face, aligned onto this embedder's template.
     *
     * @throws IllegalStateException without a detector, or after {@link #close()}
     * @throws SphereKitException    if inference fails
     */
    public float[] embedFace(BufferedImage image, FaceDetector.Face face) throws SphereKitException {
        float[] t = new float[preprocessing.tensorSize()];
        byte[] px = alignFace(image, face);
        refuseUniform(px, "image");
        preprocessing.normalizeInto(px, false, t, 0);
        return embedTensor(t, 1)[0];
    }

    /**
     * Aligns a given detected face onto this embedder's template (e.g. a face other than the largest).
     *
     * @return {@code height·width·3} RGB bytes, HWC
     * @throws IllegalStateException without a detector (no template)
     */
    public byte[] alignFace(BufferedImage image, FaceDetector.Face face) {
        if (alignmentTemplate == null) {
            throw new IllegalStateException("FaceEmbedder for " + modelPath + " has no detector/alignment template");
        }
        return preprocessing.alignResize(image, face.alignmentPoints(), alignmentTemplate);
    }

    /**
     * Embeds images in one batch (or in batches of the model's fixed N).
     *
     * @param images decoded images; may be empty
     * @return {@code [images.size()][embeddingDim()]}, in input order
     * @throws SphereKitException    if inference fails
     * @throws IllegalStateException after {@link #close()}
     */
    public float[][] embed(List<BufferedImage> images) throws SphereKitException {
        String[] names = new String[images.size()];
        for (int i = 0; i < names.length; i++) {
            names[i] = "images[" + i + "]";
        }
        return embed(images, List.of(names));
    }

    /**
     * Embeds images in one batch, naming them in errors.
     *
     * @param names one per image, e.g. the files
     * @throws NoFaceException          with a detector, naming the first image without a usable face
     * @throws IllegalArgumentException if the lists' sizes differ
     * @see #embed(List)
     */
    public float[][] embed(List<BufferedImage> images, List<String> names) throws SphereKitException {
        checkOpen();
        int n = images.size();
        if (names.size() != n) {
            throw new IllegalArgumentException(n + " images but " + names.size() + " names");
        }
        if (n == 0) {
            return new float[0][];
        }
        int size = preprocessing.tensorSize();
        float[] nchw = new float[n * size];
        for (int i = 0; i < n; i++) {
            BufferedImage img = Objects.requireNonNull(images.get(i), "images[" + i + "]");
            preprocessing.normalizeInto(preprocess(img, names.get(i)), false, nchw, i * size);
        }
        return embedTensor(nchw, n);
    }

    /**
     * Embeds an already preprocessed batch, with this embedder's {@link #flip()}: for {@code SUM}/{@code CONCAT}
     * the mirrored inputs are appended to the batch (one run of {@code 2n}) and each pair is combined.
     *
     * @param nchw float32 NCHW tensor data, length {@code n · 3 · H · W} with H, W from {@link #preprocessing()}
     * @param n    batch size, {@code >= 1}
     * @return {@code [n][embeddingDim()]}
     * @throws IllegalArgumentException if {@code n < 1} or the length does not match
     * @throws SphereKitException       if inference fails, or with flip an embedding has zero norm (naming the
     *                                  model and the batch index)
     * @throws IllegalStateException    after {@link #close()}
     */
    public float[][] embedTensor(float[] nchw, int n) throws SphereKitException {
        if (!flip.needsMirror()) {
            return embedRaw(nchw, n);
        }
        int size = preprocessing.tensorSize();
        if (n < 1 || (long) n * size != nchw.length) {
            return embedRaw(nchw, n); // throws the argument error
        }
        float[] both = Arrays.copyOf(nchw, 2 * n * size);
        mirrorInto(nchw, n, preprocessing.height(), preprocessing.width(), both, n * size);
        float[][] r = embedRaw(both, 2 * n);
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) {
            try {
                out[i] = flip.combine(r[i], r[n + i]);
            } catch (IllegalArgumentException e) {
                throw new SphereKitException("model " + modelPath + ", batch item " + i + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    /**
     * Mirrors {@code n} NCHW images left-right: {@code dst[offset + ((i·3 + c)·h + y)·w + x] =
     * src[((i·3 + c)·h + y)·w + (w − 1 − x)]}.
     */
    static void mirrorInto(float[] src, int n, int h, int w, float[] dst, int offset) {
        int rows = n * 3 * h;
        for (int r = 0; r < rows; r++) {
            int base = r * w;
            for (int x = 0; x < w; x++) {
                dst[offset + base + x] = src[base + w - 1 - x];
            }
        }
    }

    /** {@link #embedTensor} without the flip: the model's raw outputs, {@code [n][modelEmbeddingDim()]}. */
    private float[][] embedRaw(float[] nchw, int n) throws SphereKitException {
        int size = preprocessing.tensorSize();
        if (n < 1) {
            throw new IllegalArgumentException("n must be >= 1, got " + n);
        }
        if ((long) n * size != nchw.length) {
            throw new IllegalArgumentException("nchw length must be n*3*H*W = " + n + "*3*" + preprocessing.height()
                    + "*" + preprocessing.width() + " = " + ((long) n * size) + ", got " + nchw.length);
        }
        lock.readLock().lock();
        try {
            checkOpen();
            if (fixedBatch < 0 || fixedBatch == n) {
                return run(nchw, n);
            }
            int fb = (int) fixedBatch;
            float[][] out = new float[n][];
            for (int start = 0; start < n; start += fb) {
                int count = Math.min(fb, n - start);
                float[] chunk = new float[fb * size]; // zero-padded when the last chunk is short
                System.arraycopy(nchw, start * size, chunk, 0, count * size);
                float[][] r = run(chunk, fb);
                System.arraycopy(r, 0, out, start, count);
            }
            return out;
        } finally {
            lock.readLock().unlock();
        }
    }

    private float[][] run(float[] nchw, int n) throws SphereKitException {
        long[] shape = {n, 3, preprocessing.height(), preprocessing.width()};
        try (OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(nchw), shape);
             OrtSession.Result result = session.run(Map.of(inputName, input))) {
            OnnxValue v = result.get(0);
            if (!(v instanceof OnnxTensor t)) {
                throw new SphereKitException("model " + modelPath + " returned a non-tensor output: " + v.getInfo());
            }
            long[] os = t.getInfo().getShape();
            if (os.length != 2 || os[0] != n) {
                throw new SphereKitException("model " + modelPath + " returned shape " + Arrays.toString(os)
                        + " for a batch of " + n + ", expected [" + n + ", D]");
            }
            FloatBuffer fb = t.getFloatBuffer();
            int d = (int) os[1];
            float[][] out = new float[n][d];
            for (int i = 0; i < n; i++) {
                fb.get(out[i]);
            }
            return out;
        } catch (OrtException e) {
            throw new SphereKitException("inference failed on model " + modelPath + ": " + firstLine(e), e);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("FaceEmbedder for " + modelPath + " is closed");
        }
    }

    /** @return the model's custom {@code metadata_props}, unmodifiable and sorted by key (may be empty) */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** @return the model's {@code spherekit.*} metadata, parsed and validated when the model was loaded */
    public ModelMetadata modelMetadata() {
        return modelMetadata;
    }

    /** @return the length of every embedding returned: the model's D, or 2·D with flip {@code CONCAT} */
    public int embeddingDim() {
        return embeddingDim;
    }

    /** @return D, the length of the model's own output (before any flip combination) */
    public int modelEmbeddingDim() {
        return modelEmbeddingDim;
    }

    /** @return the test-time flip in use: the builder's, else the model's metadata, else {@code NONE} */
    public TestTimeFlip flip() {
        return flip;
    }

    /** @return the preprocessing in use (from the model metadata, else the builder) */
    public Preprocessing preprocessing() {
        return preprocessing;
    }

    /** @return the provider actually in use: {@link Provider#CPU} or {@link Provider#CUDA}, never AUTO */
    public Provider provider() {
        return provider;
    }

    /** @return why {@link #provider()} was chosen, e.g. the CUDA load error behind an AUTO fallback to CPU */
    public String providerReason() {
        return providerReason;
    }

    /** @return the face detector of the aligned mode, or {@code null} (fixed crop) */
    public FaceDetector detector() {
        return detector;
    }

    /** @return the alignment template of the aligned mode, or {@code null} (fixed crop) */
    public AlignmentTemplate alignmentTemplate() {
        return alignmentTemplate;
    }

    /** @return the model file this embedder was loaded from */
    public Path modelPath() {
        return modelPath;
    }

    /** Releases the native session (and the detector's) after running calls finish. Idempotent. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                closeQuietly();
                closeDetector(detector);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Configures a {@link FaceEmbedder}: {@code set*} is required, {@code opt*} optional.
     * Not thread-safe; {@link #build()} validates.
     */
    public static final class Builder {
        private Path modelPath;
        private Provider provider = Provider.AUTO;
        private Preprocessing preprocessing;
        private int intraOpThreads;
        private Set<OrtProvider> buildProviders;
        private FaceDetector detector;
        private FaceDetector.Builder detectorIfAligned;
        private AlignmentTemplate alignmentTemplate;
        private ModelCard card;
        private OrtLoggingLevel sessionLogLevel;
        private TestTimeFlip flip;
        private GraphOptimization graphOptimization;
        private Boolean intraOpSpinning;
        private Path saveOptimizedModel;

        private Builder() {
        }

        /**
         * Test-time flip (see the class comment).
         *
         * @param f the mode, or {@code null} (the default): the model's metadata {@code spherekit.input.flip}, else
         *          {@link TestTimeFlip#NONE}
         */
        public Builder optFlip(TestTimeFlip f) {
            this.flip = f;
            return this;
        }

        /**
         * The ONNX Runtime log level of this model's session only (the environment's default, WARNING, when not
         * set): {@link FaceDetector} raises it to ERROR for its third-party model. Not public: a user's model
         * keeps ONNX Runtime's warnings.
         */
        Builder sessionLogLevel(OrtLoggingLevel level) {
            this.sessionLogLevel = level;
            return this;
        }

        /**
         * Test seam: the execution providers the ONNX Runtime build is taken to contain, instead of
         * {@link OrtEnvironment#getAvailableProviders()} (e.g. CUDA on a CPU build, to reach the fallback path).
         */
        Builder buildProviders(Set<OrtProvider> providers) {
            EnumSet<OrtProvider> copy = EnumSet.noneOf(OrtProvider.class);
            copy.addAll(providers);
            this.buildProviders = copy;
            return this;
        }

        /**
         * Detect and align before embedding (see the class comment). The embedder takes ownership: its
         * {@link FaceEmbedder#close()} (or a failed {@link #build()}) closes the detector.
         *
         * @param d the detector, or {@code null} for the fixed crop (the default)
         */
        public Builder optDetector(FaceDetector d) {
            this.detector = d;
            return this;
        }

        /**
         * A detector to open only when the model's metadata says it was trained on aligned faces
         * ({@code spherekit.input.align=detect}): then the aligned mode applies as with {@link #optDetector};
         * otherwise the fixed crop. Ignored when {@link #optDetector} is given.
         *
         * @param d the detector's builder, or {@code null}
         */
        public Builder optDetectorIfModelAligned(FaceDetector.Builder d) {
            this.detectorIfAligned = d;
            return this;
        }

        /** @param t template of the aligned mode; default from the model metadata or its input size */
        public Builder optAlignmentTemplate(AlignmentTemplate t) {
            this.alignmentTemplate = t;
            return this;
        }

        /** @param path the {@code .onnx} file (required) */
        public Builder setModelPath(Path path) {
            this.modelPath = Objects.requireNonNull(path, "modelPath");
            return this;
        }

        /** @param p execution provider; default {@link Provider#AUTO} */
        public Builder optProvider(Provider p) {
            this.provider = Objects.requireNonNull(p, "provider");
            return this;
        }

        /** @param p preprocessing used when the model metadata holds none; default none */
        public Builder optPreprocessing(Preprocessing p) {
            this.preprocessing = p;
            return this;
        }

        /**
         * Preprocessing fields that override the model's metadata field by field (a model card file and/or
         * command-line values, see {@link ModelCard}). Under the card lies the model's {@code spherekit.input.*}
         * metadata, else {@link #optPreprocessing}'s definition; with neither, the card must give every
         * {@link ModelCard#REQUIRED} field (the input size may also come from the model's fixed input shape), else
         * {@link #build()} throws an {@link IncompletePreprocessingException} listing the missing fields. The
         * card's alignment template is used when {@link #optAlignmentTemplate} gives none.
         *
         * @param card the fields, or {@code null} (the default): metadata, else {@link #optPreprocessing}
         */
        public Builder optModelCard(ModelCard card) {
            this.card = card;
            return this;
        }

        /**
         * @param threads ONNX Runtime intra-op threads, {@code >= 1}; default 0 = ORT's choice (physical cores)
         * @throws IllegalArgumentException if {@code threads < 0}
         */
        public Builder optIntraOpThreads(int threads) {
            if (threads < 0) {
                throw new IllegalArgumentException("intraOpThreads must be >= 0, got " + threads);
            }
            this.intraOpThreads = threads;
            return this;
        }

        /**
         * ONNX Runtime's graph optimisation level for this session. Measured on SphereFace-20 (bench/serve-levers.sh,
         * BENCHMARKS.md): ALL is the fastest; a model ORT already optimised and saved ({@link #optSaveOptimizedModel})
         * is loaded with {@link GraphOptimization#NONE}.
         *
         * @param level the level, or {@code null} (the default): ORT's default, {@link GraphOptimization#ALL}
         */
        public Builder optGraphOptimization(GraphOptimization level) {
            this.graphOptimization = level;
            return this;
        }

        /**
         * Whether ONNX Runtime's idle intra-op threads spin (busy-wait for the next parallel section) or sleep
         * (session config entry {@code session.intra_op.allow_spinning}). Spinning saves a wake-up per section but
         * burns CPU between calls, which a server sharing its cores with request handling may not want.
         *
         * @param spin {@code true} / {@code false}, or {@code null} (the default): ORT's default, spinning on
         */
        public Builder optIntraOpSpinning(Boolean spin) {
            this.intraOpSpinning = spin;
            return this;
        }

        /**
         * Also writes the graph ONNX Runtime optimised (at {@link #optGraphOptimization}'s level) to {@code path}
         * when the session is created ({@code SessionOptions.setOptimizedModelFilePath}), atomically (a temporary
         * file in the same folder, renamed: see {@code AtomicFiles}), in ONNX format whatever the extension; the
         * model's metadata is kept. Load the saved
         * file later with {@link GraphOptimization#NONE} to skip the optimisation at start-up. At LAYOUT and ALL the
         * saved graph holds ORT's NCHWc operators for this CPU's vector width: use it only on the same kind of CPU
         * and ORT version (ORT warns when saving it).
         *
         * @param path the file to write (its folder must exist), or {@code null} (the default): nothing written
         * @throws IllegalArgumentException if the name ends in {@code .ort}: ONNX Runtime reads such a file as its
         *                                  own ORT format, and this writes ONNX
         */
        public Builder optSaveOptimizedModel(Path path) {
            if (path != null && path.getFileName() != null
                    && path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".ort")) {
                throw new IllegalArgumentException("optimised model " + path + ": the file is written in ONNX format,"
                        + " but ONNX Runtime would load a .ort file as ORT format; use a .onnx name");
            }
            this.saveOptimizedModel = path;
            return this;
        }

        /**
         * Loads and validates the model.
         *
         * @throws SphereKitException if the file is missing or not a valid ONNX model, it breaks the input/output
         *                            contract, no preprocessing is known, or provider CUDA cannot be loaded
         * @throws IllegalStateException if no model path was set
         */
        public FaceEmbedder build() throws SphereKitException {
            if (modelPath == null) {
                throw new IllegalStateException("setModelPath(Path) is required");
            }
            return new FaceEmbedder(this);
        }
    }
}
