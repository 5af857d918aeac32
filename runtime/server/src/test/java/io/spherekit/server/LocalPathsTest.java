package io.spherekit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class LocalPathsTest {

    @Test
    void absolutePathsBecomeFileNames() {
        assertEquals("lfw people=peopleDevTrain.txt",
                LocalPaths.toFileNames("/work/shared/data/lfw people=peopleDevTrain.txt"));
        assertEquals("lfw", LocalPaths.toFileNames("/work/shared/data/lfw/"));
        assertEquals("Error code - ORT_EP_FAIL - message: Failed to load libonnxruntime_providers_cuda.so: cannot"
                        + " open libcudart.so.12",
                LocalPaths.toFileNames("Error code - ORT_EP_FAIL - message: Failed to load"
                        + " /tmp/onnxruntime-java123/libonnxruntime_providers_cuda.so: cannot open libcudart.so.12"));
        assertEquals("model m.onnx (from 'a.onnx')", LocalPaths.toFileNames("model /srv/m.onnx (from '/x/y/a.onnx')"));
        assertEquals("weights.onnx", LocalPaths.toFileNames("C:\\Users\\me\\weights.onnx"));
        assertEquals("m.onnx", LocalPaths.toFileNames("file:///srv/models/m.onnx"));
    }

    @Test
    void otherTextIsUnchanged() {
        for (String s : new String[] {"", "0.31", "none (random weights, benchmark model)", "data/lfw people=p.txt",
            "m.onnx@sha256:0123456789ab", "1/2 of the pairs", "see http://example.org/docs/x", "a / b", "/"}) {
            assertEquals(s, LocalPaths.toFileNames(s), s);
        }
        assertNull(LocalPaths.toFileNames(null));
    }
}
