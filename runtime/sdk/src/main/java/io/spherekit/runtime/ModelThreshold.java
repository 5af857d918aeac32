package io.spherekit.runtime;

import io.spherekit.core.io.AtomicFiles;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.InvalidProtocolBufferException;
import io.spherekit.core.ModelMetadata;
import io.spherekit.core.SphereKitException;
import io.spherekit.core.TestTimeFlip;
import io.spherekit.onnx.OnnxModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Records a calibrated decision threshold in an ONNX model file, so that {@link Verifier#fromModelMetadata},
 * {@code spherekit verify} and {@code spherekit serve} use it without an explicit threshold.
 *
 * <p>The model's {@code metadata_props} get {@value Verifier#THRESHOLD_KEY} (the cosine, as
 * {@link Double#toString(double)}) and {@value Verifier#THRESHOLD_SOURCE_KEY} (how it was calibrated); every other
 * entry, the graph and the weights stay as they are. The file is replaced atomically: the new bytes go to a
 * temporary file in the model's folder, are forced to disk, and are moved over the model with an atomic rename (the
 * model's POSIX permissions are kept). A file system that cannot rename atomically is an error; the model is then
 * left untouched. The model file's bytes change, so its {@link ModelId} does too unless
 * {@value ModelId#METADATA_KEY} names it.
 */
public final class ModelThreshold {

    private ModelThreshold() {
    }

    /**
     * Writes a threshold calibrated without test-time flip: {@link #write(Path, double, String, TestTimeFlip)} with
     * {@link TestTimeFlip#NONE}.
     */
    public static String write(Path model, double threshold, String source) throws SphereKitException {
        return write(model, threshold, source, TestTimeFlip.NONE);
    }

    /**
     * Writes {@code threshold}, {@code source} and the test-time flip it was calibrated with into the model's
     * metadata. The flip goes into {@code spherekit.input.flip} ({@link ModelMetadata.Key#INPUT_FLIP}), which the
     * runtime then uses by default, so the threshold is applied to embeddings of the mode it was chosen for; for
     * {@link TestTimeFlip#NONE} the key is removed (absent means none).
     *
     * @param model     the ONNX model file (replaced atomically)
     * @param threshold cosine threshold in [-1, 1]
     * @param source    how it was calibrated, e.g. "pairsDevTest.txt 10-fold mean"
     * @param flip      the test-time flip of the embeddings the threshold was calibrated on
     * @return the threshold the model held before ({@value Verifier#THRESHOLD_KEY}), or null if it had none
     * @throws IllegalArgumentException the threshold is not a finite cosine in [-1, 1], or the source is blank
     * @throws SphereKitException       the file is missing, is not an ONNX model, or cannot be replaced
     */
    public static String write(Path model, double threshold, String source, TestTimeFlip flip)
            throws SphereKitException {
        Objects.requireNonNull(flip, "flip");
        if (!Double.isFinite(threshold) || threshold < -1 || threshold > 1) {
            throw new IllegalArgumentException("threshold must be a cosine in [-1,1], got " + threshold);
        }
        if (source == null || source.isBlank()) {
            throw new IllegalArgumentException("the threshold's source must be named");
        }
        OnnxMl.ModelProto proto = read(model);
        String previous = null;
        for (OnnxMl.StringStringEntryProto e : proto.getMetadataPropsList()) {
            if (e.getKey().equals(Verifier.THRESHOLD_KEY)) {
                previous = e.getValue();
            }
        }
        Map<String, String> entries = new LinkedHashMap<>();
        entries.put(Verifier.THRESHOLD_KEY, Double.toString(threshold));
        entries.put(Verifier.THRESHOLD_SOURCE_KEY, source.strip());
        String flipKey = ModelMetadata.Key.INPUT_FLIP.key();
        if (flip.needsMirror()) {
            entries.put(flipKey, flip.id());
        } else {
            OnnxMl.ModelProto.Builder pb = proto.toBuilder().clearMetadataProps();
            proto.getMetadataPropsList().stream().filter(e -> !e.getKey().equals(flipKey))
                    .forEach(pb::addMetadataProps);
            proto = pb.build();
        }
        byte[] bytes = OnnxModels.withMetadata(proto, entries).toByteArray();
        try {
            replaceAtomically(model, bytes);
        } catch (IOException e) {
            throw new SphereKitException("cannot write the threshold into model " + model + ": " + e.getMessage(), e);
        }
        return previous;
    }

    private static OnnxMl.ModelProto read(Path model) throws SphereKitException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(model);
        } catch (NoSuchFileException e) {
            throw new SphereKitException("model " + model + " does not exist", e);
        } catch (IOException e) {
            throw new SphereKitException("cannot read model " + model + ": " + e.getMessage(), e);
        }
        OnnxMl.ModelProto proto;
        try {
            proto = OnnxMl.ModelProto.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new SphereKitException("model " + model + " is not an ONNX model: " + e.getMessage(), e);
        }
        if (!proto.hasGraph()) {
            throw new SphereKitException("model " + model + " is not an ONNX model: it holds no graph");
        }
        return proto;
    }

    /** The one atomic-write policy of the project ({@link AtomicFiles}). */
    private static void replaceAtomically(Path target, byte[] bytes) throws IOException {
        AtomicFiles.writeBytes(target, bytes);
    }
}
