package io.spherekit.runtime;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The detector's session logs no "Removing initializer ... not used by any node" warnings for its third-party
 * model, while a session with {@link FaceEmbedder}'s defaults (a user's model) still gets ONNX Runtime's warnings:
 * the same file opened that way warns, which also shows that the child's output is captured. ONNX Runtime logs
 * natively to stderr, so each load runs in a child JVM ({@link DetectorLogChild}).
 */
class FaceDetectorLogTest {
    static final String WARNING = "Removing initializer";

    static String openInChild(String mode) throws IOException, InterruptedException {
        Path model = FaceDetector.defaultModelPath().toAbsolutePath();
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), DetectorLogChild.class.getName(), mode, model.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertTrue(p.exitValue() == 0 && out.contains("opened " + mode), "child " + mode + " failed:\n" + out);
        return out;
    }

    @Test
    void detectorSessionHidesTheModelsUnusedInitializerWarnings() throws Exception {
        String user = openInChild("embedder");
        assertTrue(user.contains(WARNING), "a session with the embedder's defaults keeps ORT's warnings:\n" + user);
        String detector = openInChild("detector");
        assertFalse(detector.contains(WARNING), "the detector's session is quiet:\n" + detector);
    }
}
