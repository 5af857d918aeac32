package io.spherekit.spark;

import java.io.Serializable;

/**
 * The outcome for one input file of a batch embedding job.
 *
 * @param file      the file as listed (a path or URI that Hadoop's file systems resolve)
 * @param status    {@link #OK}, {@link #CROP_FALLBACK}, a no-face reason ({@code no_face}, {@code face_too_small},
 *                  {@code uniform_image}: {@code NoFaceException.Reason} in lower case), {@link #UNDECODABLE} or
 *                  {@link #UNREADABLE}
 * @param reason    the full message for any status but {@link #OK}, else {@code null}
 * @param box       the face box {@code {x, y, w, h}} in the image's pixels (x, y the top-left corner) of the
 *                  aligned mode; {@code null} in the fixed-crop mode and when no face was used
 * @param embedding the raw (not L2-normalised) embedding, length D; {@code null} when the file was left out
 */
public record ImageEmbedding(String file, String status, String reason, double[] box, float[] embedding)
        implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Embedded (from the aligned face, or the fixed crop in crop mode). */
    public static final String OK = "ok";
    /** Aligned mode, evaluation only: no usable face, embedded from the fixed crop instead (as {@code evaluate}). */
    public static final String CROP_FALLBACK = "crop_fallback";
    /** The bytes could not be decoded as an image (not an image, truncated, unsupported format, too many pixels). */
    public static final String UNDECODABLE = "undecodable";
    /** The file could not be read (missing, permission, I/O error). */
    public static final String UNREADABLE = "unreadable";

    /** @return whether the file has an embedding ({@link #OK} or {@link #CROP_FALLBACK}) */
    public boolean embedded() {
        return embedding != null;
    }
}
