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

    /** @param message names the image and the problem */
    public NoFaceException(String message) {
        super(message);
    }
}
