package io.spherekit.runtime;

import io.spherekit.core.ModelMetadata;
import io.spherekit.core.SphereKitException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * A short, stable identifier of an embedding model, reported by the HTTP service and recorded in galleries so
 * that embeddings from different models are not mixed by accident.
 *
 * <p>The id is the model metadata value {@code spherekit.model_id} ({@link ModelMetadata.Key#MODEL_ID}) when present, else
 * {@code <file name>@sha256:<first 12 hex digits of the file's SHA-256>}. An embedder with a test-time flip
 * ({@link FaceEmbedder#flip()} not {@code none}) adds {@code +flip=sum} or {@code +flip=concat}: its embeddings
 * are not comparable with the same model's unflipped ones, so a gallery built in one mode is refused in another.
 */
public final class ModelId {

    /** Model metadata key that, when present, is the model id. */
    public static final String METADATA_KEY = ModelMetadata.Key.MODEL_ID.key();

    private ModelId() {
    }

    /**
     * @return the id of the embedder's model (reads and hashes the model file unless the metadata names it)
     * @throws SphereKitException if the model file cannot be read
     */
    public static String of(FaceEmbedder embedder) throws SphereKitException {
        String id = of(embedder.modelPath(), embedder.metadata());
        return embedder.flip().needsMirror() ? id + FLIP_SUFFIX + embedder.flip().id() : id;
    }

    /** Appended to the id of an embedder with test-time flip, before the mode's name. */
    public static final String FLIP_SUFFIX = "+flip=";

    /**
     * @param model    the model file
     * @param metadata its {@code metadata_props}
     * @throws SphereKitException if the file cannot be read
     */
    public static String of(Path model, Map<String, String> metadata) throws SphereKitException {
        String fromMetadata = metadata.get(METADATA_KEY);
        if (fromMetadata != null && !fromMetadata.isBlank()) {
            return fromMetadata.strip();
        }
        try (InputStream in = Files.newInputStream(model)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            String hex = HexFormat.of().formatHex(md.digest());
            return model.getFileName() + "@sha256:" + hex.substring(0, 12);
        } catch (IOException e) {
            throw new SphereKitException("cannot read model " + model + " to compute its id: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    /**
     * Whether two ids name the same model: equal, or both of the form {@code <file>@sha256:<hex>} with the same hash
     * (the same bytes under another file name).
     *
     * @param a an id as {@link #of} returns it (e.g. recorded in a gallery)
     * @param b another
     */
    public static boolean sameModel(String a, String b) {
        if (a.equals(b)) {
            return true;
        }
        if (!flipOf(a).equals(flipOf(b))) {
            return false;
        }
        int ia = a.lastIndexOf("@sha256:");
        int ib = b.lastIndexOf("@sha256:");
        return ia >= 0 && ib >= 0 && a.substring(ia).equals(b.substring(ib));
    }

    /** @return the {@code +flip=MODE} suffix of an id, or "" */
    private static String flipOf(String id) {
        int i = id.lastIndexOf(FLIP_SUFFIX);
        return i < 0 ? "" : id.substring(i);
    }
}
