package io.spherekit.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.spherekit.core.Images;
import io.spherekit.core.ModelMetadata;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.SphereKitException;
import io.spherekit.runtime.FaceDetector;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.Verification;
import io.spherekit.runtime.Verifier;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;

/**
 * {@code POST /v1/inspect}: what {@code /v1/verify} does with two images, shown step by step, for the page at
 * {@code /} ({@link Page}) and for anyone debugging a decision.
 *
 * <p>Request: as {@code /v1/verify}, two images as multipart parts {@code a} and {@code b} or JSON
 * {@code {"a": base64, "b": base64}}, under the same body limit ({@code --max-body-bytes}) and pixel limit.
 *
 * <p>Answer ({@code 200}, JSON):
 * <pre>{@code
 * {"score": cosine, "same": bool, "threshold": t, "threshold_source": "model metadata spherekit.threshold",
 *  "threshold_detail": "pairsDevTest.txt 10-fold mean" | null, "model_id": ..., "align": "detect" | "crop",
 *  "template": "sphereface-112x96" | null, "input": {"height": 112, "width": 96},
 *  "landmark_names": ["right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear", "left_ear"],
 *  "images": [ {"part": "a", "width": W, "height": H,
 *               "faces": [{"box": {"x", "y", "width", "height"}, "score", "landmarks": [[x, y] x 6]}, ...],
 *               "face_used": {"index": 0, "box", "score", "landmarks"} | null,
 *               "crop_box": {"x", "y", "width", "height"} | null,
 *               "crop": "data:image/png;base64,..."}, {"part": "b", ...} ]}
 * }</pre>
 * Coordinates are source-image pixels (continuous, origin at the top-left corner of the top-left pixel, after the
 * EXIF orientation is applied). With a detector ({@code serve --align detect}), {@code faces} holds every detection
 * ({@link FaceDetector#detect}, largest first) and {@code face_used} the largest one after
 * {@link FaceDetector#refine}, i.e. exactly the face {@link FaceEmbedder#preprocess} aligns; {@code crop_box} is
 * null. Without one ({@code --align crop}), {@code faces} is empty, {@code face_used} null, and {@code crop_box}
 * the fixed crop box of the model's {@link Preprocessing}. {@code crop} is the model input before normalisation
 * (the aligned face or the fixed crop, {@code input.height × input.width}, RGB) as a PNG data URL. The two inputs
 * are embedded in one batch of 2 as {@code /v1/verify} does, so {@code score} and {@code same} equal its answer.
 *
 * <p>Errors as every endpoint (see the README table); the images are named {@code 'a'} and {@code 'b'}: 422
 * {@code no_face} "no face found in 'b' (...)", 422 {@code invalid_image}, 400, 413, 415 as {@code /v1/verify}.
 */
final class Inspect {

    /** The names of BlazeFace's six landmarks, in its order (see {@link FaceDetector}). */
    static final List<String> LANDMARK_NAMES = List.of("right_eye", "left_eye", "nose_tip", "mouth_center",
            "right_ear", "left_ear");

    private static final String USAGE = "send multipart/form-data parts 'a' and 'b', or JSON"
            + " {\"a\": base64, \"b\": base64}";

    private final ObjectMapper mapper;
    private final FaceEmbedder embedder;
    private final Verifier verifier;
    private final String modelId;
    private final long maxPixels;

    Inspect(ObjectMapper mapper, FaceEmbedder embedder, Verifier verifier, String modelId, long maxPixels) {
        this.mapper = mapper;
        this.embedder = embedder;
        this.verifier = verifier;
        this.modelId = modelId;
        this.maxPixels = maxPixels;
    }

    /**
     * Validates the request on the HTTP thread and returns its work (decode, detect, align, embed, compare).
     *
     * @throws ApiError 415 for a raw single image, 400 for a missing or empty image
     */
    Callable<ObjectNode> parse(Context ctx, RequestInputs in) {
        if (in.isRaw()) {
            throw new ApiError(415, "unsupported_media_type", "inspect needs two images: " + USAGE);
        }
        byte[] a = in.image("a", USAGE);
        byte[] b = in.image("b", USAGE);
        return () -> run(a, b);
    }

    /** One image's way to the model input: its detections, the face used (null: fixed crop) and the input pixels. */
    private record Prepared(String part, BufferedImage image, List<FaceDetector.Face> faces, FaceDetector.Face used,
                            byte[] hwc) {
    }

    private ObjectNode run(byte[] a, byte[] b) throws SphereKitException {
        // as /v1/verify: both images are decoded before either is detected, so errors come in the same order
        BufferedImage ia = decode("a", a);
        BufferedImage ib = decode("b", b);
        Prepared pa = prepare("a", ia);
        Prepared pb = prepare("b", ib);
        Preprocessing p = embedder.preprocessing();
        int size = p.tensorSize();
        float[] nchw = new float[2 * size];
        p.normalizeInto(pa.hwc, false, nchw, 0);
        p.normalizeInto(pb.hwc, false, nchw, size);
        float[][] e = embedder.embedTensor(nchw, 2);
        Verification v;
        try {
            v = verifier.verify(e[0], e[1]);
        } catch (IllegalArgumentException x) {
            throw new ApiError(422, "unprocessable", "cannot compare the faces: " + x.getMessage()
                    + " (a is image 'a', b is image 'b')");
        }
        FaceDetector detector = embedder.detector();
        ObjectNode j = mapper.createObjectNode();
        j.put("score", v.score());
        j.put("same", v.same());
        j.put("threshold", v.threshold());
        j.put("threshold_source", verifier.thresholdSource());
        String detail = embedder.metadata().get(ModelMetadata.Key.THRESHOLD_SOURCE.key());
        if (detail != null && !"explicit".equals(verifier.thresholdSource())) {
            j.put("threshold_detail", LocalPaths.toFileNames(detail));
        } else {
            j.putNull("threshold_detail");
        }
        j.put("model_id", modelId);
        j.put("align", detector == null ? "crop" : "detect");
        if (detector == null) {
            j.putNull("template");
        } else {
            j.put("template", embedder.alignmentTemplate().name());
        }
        ObjectNode input = j.putObject("input");
        input.put("height", p.height());
        input.put("width", p.width());
        ArrayNode names = j.putArray("landmark_names");
        LANDMARK_NAMES.forEach(names::add);
        ArrayNode images = j.putArray("images");
        for (Prepared x : List.of(pa, pb)) {
            images.add(describe(x, p));
        }
        return j;
    }

    private BufferedImage decode(String part, byte[] data) {
        try {
            return Images.read(data, "'" + part + "'", maxPixels);
        } catch (IOException e) {
            throw new ApiError(422, "invalid_image", e.getMessage());
        }
    }

    /** Detects and aligns (or crops) one image exactly as {@link FaceEmbedder#preprocess} does. */
    private Prepared prepare(String part, BufferedImage img) throws SphereKitException {
        String name = "'" + part + "'";
        FaceDetector detector = embedder.detector();
        if (detector == null) {
            return new Prepared(part, img, List.of(), null, embedder.preprocess(img, name));
        }
        // FaceDetector.detectLargest, with the list of detections kept for the answer
        List<FaceDetector.Face> faces = detector.detect(img);
        FaceDetector.Face used = detector.refine(img, detector.largest(faces, img, name));
        return new Prepared(part, img, faces, used, embedder.alignFace(img, used));
    }

    private ObjectNode describe(Prepared x, Preprocessing p) {
        ObjectNode o = mapper.createObjectNode();
        o.put("part", x.part);
        o.put("width", x.image.getWidth());
        o.put("height", x.image.getHeight());
        ArrayNode faces = o.putArray("faces");
        for (FaceDetector.Face f : x.faces) {
            faces.add(face(f));
        }
        if (x.used == null) {
            o.putNull("face_used");
            ObjectNode box = o.putObject("crop_box");
            box.put("x", p.cropLeft() * x.image.getWidth());
            box.put("y", p.cropTop() * x.image.getHeight());
            box.put("width", p.cropWidth() * x.image.getWidth());
            box.put("height", p.cropHeight() * x.image.getHeight());
        } else {
            ObjectNode u = face(x.used);
            u.put("index", 0); // FaceDetector.largest: the first (largest) detection, then refined
            o.set("face_used", u);
            o.putNull("crop_box");
        }
        o.put("crop", "data:image/png;base64," + Base64.getEncoder().encodeToString(png(x.hwc, p)));
        return o;
    }

    private ObjectNode face(FaceDetector.Face f) {
        ObjectNode o = mapper.createObjectNode();
        ObjectNode box = o.putObject("box");
        box.put("x", f.x());
        box.put("y", f.y());
        box.put("width", f.width());
        box.put("height", f.height());
        o.put("score", f.score());
        ArrayNode lm = o.putArray("landmarks");
        for (double[] pt : f.landmarks()) {
            lm.addArray().add(pt[0]).add(pt[1]);
        }
        return o;
    }

    /**
     * @param hwc {@code height·width·3} RGB bytes, HWC, as {@link FaceEmbedder#preprocess} returns them
     * @return the pixels as a PNG file
     */
    static byte[] png(byte[] hwc, Preprocessing p) {
        int h = p.height();
        int w = p.width();
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0, i = 0; y < h; y++) {
            for (int x = 0; x < w; x++, i += 3) {
                img.setRGB(x, y, (hwc[i] & 0xff) << 16 | (hwc[i + 1] & 0xff) << 8 | (hwc[i + 2] & 0xff));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, "png", out)) {
                throw new IllegalStateException("no PNG writer");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode a PNG in memory", e);
        }
        return out.toByteArray();
    }
}
