package io.spherekit.exporter.quant;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OrtException;
import io.spherekit.core.Images;
import io.spherekit.core.ModelCard;
import io.spherekit.core.ModelMetadata;
import io.spherekit.core.ModelMetadata.Key;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.SphereKitException;
import io.spherekit.core.Similarity;
import io.spherekit.runtime.FaceDetector;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.NoFaceException;
import io.spherekit.runtime.Provider;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Static int8 quantisation of a float32 face-embedding model: calibration images through the model's own
 * preprocessing ({@link FaceEmbedder#preprocess}: the fixed crop, or detection + alignment), activation ranges by
 * {@link Calibrator}, then {@link QdqQuantizer}. The result keeps every metadata entry of the input and records
 * {@link Key#QUANTIZATION} = {@value #QUANTIZATION} with the calibration set (name, count, SHA-256), method and
 * alignment mode.
 */
public final class Int8Export {

    /** Value of {@link Key#QUANTIZATION}. */
    public static final String QUANTIZATION = "int8-qdq";

    /**
     * @param method      range method
     * @param percentile  percentile of {@link CalibrationMethod#PERCENTILE}
     * @param activations integer type of activations
     * @param detect      align calibration images with the face detector (as {@code --align detect} serving does)
     * @param detector    detector model for {@code detect} (null = {@link FaceDetector#defaultModelPath()})
     * @param card        preprocessing of a model without SphereKit metadata (null: the model's metadata)
     * @param reduceRange 7-bit weights in [-63, 63] ({@link QdqQuantizer#REDUCED_WEIGHT_MAX}) instead of [-127, 127]
     * @param rewritePrelu rewrite each per-channel PReLU to {@code x + (1 − a)·Relu(−x)} first ({@link PreluRewrite}),
     *                     so it runs in integer kernels; false quantises PReLU in the form the model has
     */
    public record Options(CalibrationMethod method, double percentile, QdqQuantizer.ActivationType activations,
                          boolean detect, Path detector, ModelCard card, boolean reduceRange, boolean rewritePrelu) {
        public static Options defaults() {
            return new Options(CalibrationMethod.MINMAX, CalibrationMethod.DEFAULT_PERCENTILE,
                    QdqQuantizer.ActivationType.UINT8, false, null, null, false, true);
        }

        public Options withRewritePrelu(boolean r) {
            return new Options(method, percentile, activations, detect, detector, card, reduceRange, r);
        }

        public Options withReduceRange(boolean r) {
            return new Options(method, percentile, activations, detect, detector, card, r, rewritePrelu);
        }

        public Options withModelCard(ModelCard c) {
            return new Options(method, percentile, activations, detect, detector, c, reduceRange, rewritePrelu);
        }

        public Options withMethod(CalibrationMethod m) {
            return new Options(m, percentile, activations, detect, detector, card, reduceRange, rewritePrelu);
        }

        public Options withPercentile(double p) {
            return new Options(method, p, activations, detect, detector, card, reduceRange, rewritePrelu);
        }

        public Options withActivations(QdqQuantizer.ActivationType a) {
            return new Options(method, percentile, a, detect, detector, card, reduceRange, rewritePrelu);
        }

        public Options withDetect(boolean d, Path detectorModel) {
            return new Options(method, percentile, activations, d, detectorModel, card, reduceRange, rewritePrelu);
        }

        /** E.g. {@code entropy}, {@code percentile 99.99}, {@code minmax}. */
        public String describeMethod() {
            return method == CalibrationMethod.PERCENTILE
                    ? String.format(Locale.ROOT, "percentile %s", stripZeros(percentile)) : method.id();
        }
    }

    /**
     * @param model        the QDQ model
     * @param images       calibration images used (faces found, with detection)
     * @param skipped      images without a usable face (detection only)
     * @param tensors      activation tensors calibrated
     * @param minCosine    smallest cosine between the int8 and float32 embeddings of the calibration images
     * @param meanCosine   mean of those cosines
     * @param prelusRewritten PReLUs rewritten by {@link PreluRewrite} before quantisation
     */
    public record Result(ModelProto model, int images, int skipped, int tensors, double minCosine, double meanCosine,
                         int prelusRewritten) {
    }

    private Int8Export() {
    }

    /**
     * Quantises {@code fp32}.
     *
     * @param fp32 float32 model bytes with SphereKit preprocessing metadata (or any model {@link FaceEmbedder} loads)
     * @param set  calibration images
     * @param o    options
     * @return the quantised model and its check on the calibration images
     * @throws SphereKitException naming the calibration set when it is refused (constant images, no face), or when
     *                            the model cannot be loaded
     */
    public static Result quantize(byte[] fp32, CalibrationSet set, Options o)
            throws SphereKitException, IOException, OrtException {
        ModelProto model = ModelProto.parseFrom(fp32);
        int prelus = 0;
        if (o.rewritePrelu()) {
            PreluRewrite.Result rw = PreluRewrite.apply(model);
            model = rw.model();
            prelus = rw.rewritten();
        }
        List<String> tensors;
        try {
            tensors = QdqQuantizer.tensorsToCalibrate(model);
        } catch (IllegalArgumentException e) {
            throw new SphereKitException("cannot quantise: " + e.getMessage(), e);
        }
        Path dir = Files.createTempDirectory("spherekit-int8");
        try {
            Path fp32File = dir.resolve("fp32.onnx");
            Files.write(fp32File, fp32);
            List<float[]> inputs = new ArrayList<>();
            int skipped = 0;
            int uniform = 0; // refused by the embedder as uniform images
            long[] chw;
            FaceDetector detector = o.detect()
                    ? FaceDetector.builder().optModelPath(o.detector() != null ? o.detector() : FaceDetector.defaultModelPath()).build()
                    : null;
            try (FaceEmbedder e = builder(fp32File, detector, o.card()).build()) {
                Preprocessing pre = e.preprocessing();
                chw = new long[]{3, pre.height(), pre.width()};
                for (Path f : set.files()) {
                    BufferedImage img;
                    try {
                        img = Images.read(f);
                    } catch (IOException ex) {
                        throw new SphereKitException("calibration image " + f + " cannot be read: " + ex.getMessage(), ex);
                    }
                    byte[] hwc;
                    try {
                        hwc = e.preprocess(img, f.toString());
                    } catch (NoFaceException ex) {
                        if (ex.reason() == NoFaceException.Reason.UNIFORM_IMAGE) {
                            uniform++;
                        } else {
                            skipped++;
                        }
                        continue;
                    }
                    float[] t = new float[pre.tensorSize()];
                    pre.normalizeInto(hwc, false, t, 0);
                    inputs.add(t);
                }
            }
            if (inputs.isEmpty() && uniform == set.files().size()) {
                throw new SphereKitException("calibration set " + set.source() + " refused: all " + uniform
                        + " images are uniform (one colour after preprocessing), so every activation range would be"
                        + " degenerate; calibrate on real face images");
            }
            if (inputs.isEmpty()) {
                throw new SphereKitException("calibration set " + set.source() + ": none of its " + set.files().size()
                        + " images has a usable face (" + uniform + " uniform); nothing to calibrate on");
            }
            Calibrator.Result cal = Calibrator.calibrate(model, tensors, inputs, chw, o.method(), o.percentile());
            if (cal.nonConstantTensors() == 0) {
                throw new SphereKitException("calibration set " + set.source() + " refused: every one of the "
                        + tensors.size() + " calibrated tensors has a zero range (constant activations)");
            }
            Map<String, String> meta = new TreeMap<>();
            ModelMetadata m = ModelMetadata.builder()
                    .put(Key.QUANTIZATION, QUANTIZATION)
                    .put(Key.QUANTIZATION_SCHEME, "weights int8 symmetric per output channel"
                            + (o.reduceRange() ? " in [-63, 63] (reduce range)" : " in [-127, 127]") + "; bias int32;"
                            + " activations " + o.activations().name().toLowerCase(Locale.ROOT) + " asymmetric per tensor"
                            + (prelus > 0 ? "; " + prelus + " PReLU as x + (1 - a)*Relu(-x)" : ""))
                    .put(Key.CALIBRATION_SET, set.name())
                    .put(Key.CALIBRATION_COUNT, inputs.size())
                    .put(Key.CALIBRATION_SHA256, set.sha256())
                    .put(Key.CALIBRATION_METHOD, o.describeMethod())
                    .put(Key.CALIBRATION_ALIGN, o.detect() ? "detect" : "crop")
                    .build();
            meta.putAll(m.toMap());
            model.getMetadataPropsList().stream().filter(p -> p.getKey().equals(Key.MODEL_ID.key()))
                    .findFirst().ifPresent(p -> meta.put(Key.MODEL_ID.key(), p.getValue() + "-int8"));
            ModelProto q = QdqQuantizer.quantize(model, cal.ranges(), o.activations(),
                    o.reduceRange() ? QdqQuantizer.REDUCED_WEIGHT_MAX : QdqQuantizer.FULL_WEIGHT_MAX, meta);

            // the int8 model through the unchanged SDK, against float32, on the calibration images
            Path int8File = dir.resolve("int8.onnx");
            Files.write(int8File, q.toByteArray());
            double min = Double.POSITIVE_INFINITY;
            double sum = 0;
            try (FaceEmbedder a = builder(fp32File, null, o.card()).build(); FaceEmbedder b = builder(int8File, null, o.card()).build()) {
                int size = (int) (chw[0] * chw[1] * chw[2]);
                for (int start = 0; start < inputs.size(); start += Calibrator.BATCH) {
                    int n = Math.min(Calibrator.BATCH, inputs.size() - start);
                    float[] x = new float[n * size];
                    for (int i = 0; i < n; i++) {
                        System.arraycopy(inputs.get(start + i), 0, x, i * size, size);
                    }
                    float[][] ea = a.embedTensor(x, n);
                    float[][] eb = b.embedTensor(x, n);
                    for (int i = 0; i < n; i++) {
                        double c = Similarity.cosine(ea[i], eb[i]);
                        min = Math.min(min, c);
                        sum += c;
                    }
                }
            }
            return new Result(q, inputs.size(), skipped, tensors.size(), min, sum / inputs.size(), prelus);
        } finally {
            try (var s = Files.list(dir)) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private static FaceEmbedder.Builder builder(Path model, FaceDetector detector, ModelCard card) {
        FaceEmbedder.Builder b = FaceEmbedder.builder().setModelPath(model).optProvider(Provider.CPU);
        // an empty card keeps the metadata's preprocessing and makes a model without any fail with the missing fields
        b.optModelCard(card != null ? card : ModelCard.EMPTY);
        return detector == null ? b : b.optDetector(detector);
    }

    private static String stripZeros(double d) {
        String s = Double.toString(d);
        return s.endsWith(".0") ? s.substring(0, s.length() - 2) : s;
    }
}
