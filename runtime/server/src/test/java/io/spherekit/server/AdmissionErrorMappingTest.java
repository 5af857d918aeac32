package io.spherekit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.spherekit.core.SphereKitException;
import io.spherekit.runtime.NoFaceException;
import org.junit.jupiter.api.Test;

/** How a failed request's work becomes its HTTP answer (README, error-code table). */
class AdmissionErrorMappingTest {

    @Test
    void noFaceIsTheClientsProblemNotAnInferenceFailure() {
        ApiError e = Admission.toApiError(new NoFaceException("no face found in a"));
        assertEquals(422, e.status);
        assertEquals("no_face", e.code);
        assertEquals("no face found in a", e.getMessage());
    }

    @Test
    void otherModelFailuresStayInferenceFailures() {
        ApiError e = Admission.toApiError(new SphereKitException("ONNX Runtime failed: x"));
        assertEquals(500, e.status);
        assertEquals("inference_failed", e.code);
    }

    @Test
    void badValuesAreUnprocessable() {
        ApiError e = Admission.toApiError(new IllegalArgumentException("zero embedding"));
        assertEquals(422, e.status);
        assertEquals("unprocessable", e.code);
    }
}
