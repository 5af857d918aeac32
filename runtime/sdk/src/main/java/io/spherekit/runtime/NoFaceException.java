package io.spherekit.runtime;

import io.spherekit.core.SphereKitException;

/**
 * An image in which the {@link FaceDetector} found no usable face: "no face found in NAME" (blank, uniform or
 * face-less images, or every score below the detector's minimum) or "face too small in NAME" (the largest face is
 * narrower than {@link FaceDetector#MIN_FACE_PIXELS}). Callers that embed many images can catch it to count or
 * skip such images.
 */
public class NoFaceException extends SphereKitException {
    private static final long serialVersionUID = 1L;

    /** Why no face could be used. */
    public enum Reason {
        /** No detection scored at least the detector's minimum (blank, uniform or face-less images). */
        NO_FACE("no face"),
        /** The largest face is narrower than {@link FaceDetector#MIN_FACE_PIXELS}. */
        FACE_TOO_SMALL("face too small"),
        /**
         * The model-input pixels are uniform (a blank image, or a blank region under the fixed crop):
         * {@link FaceEmbedder#MIN_PIXEL_STD}.
         */
        UNIFORM_IMAGE("uniform image");

        private final String text;

        Reason(String text) {
            this.text = text;
        }

        /** @return how reports and summaries name it, e.g. {@code no face} */
        public String text() {
            return text;
        }
    }

    private final Reason reason;

    /** @param message names the image and the problem; the reason is {@link Reason#NO_FACE} */
    public NoFaceException(String message) {
        this(message, Reason.NO_FACE);
    }

    /**
     * @param message names the image and the problem
     * @param reason  why no face could be used
     */
    public NoFaceException(String message, Reason reason) {
        super(message);
        this.reason = reason;
    }

    /** @return why no face could be used */
    public Reason reason() {
        return reason;
    }
}
