package io.spherekit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import io.spherekit.core.Preprocessing;
import io.spherekit.runtime.LargeStack;
import io.spherekit.runtime.StderrCapture;
import io.spherekit.runtime.TestModelsAccess;
import io.spherekit.runtime.Verifier;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --provider} on the CPU build of ONNX Runtime (the default build), through the command line. */
class ProviderCliTest {

    @TempDir
    static Path dir;
    static Path model;
    static Path face;

    @BeforeAll
    static void setUp() throws Exception {
        LargeStack.environment();
        assumeFalse(OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA),
                "about the CPU build (the default); with -Pgpu the provider list has CUDA");
        Preprocessing pre = Preprocessing.fullImage(112, 96, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB);
        Map<String, String> md = new HashMap<>(pre.toMetadata());
        md.put(Verifier.THRESHOLD_KEY, "0.5");
        model = TestModelsAccess.standard(dir.resolve("m.onnx"), 112, 96, 8, md);
        BufferedImage img = TestModelsAccess.textured(20, 30, Color.RED);
        face = dir.resolve("face.png");
        assertTrue(ImageIO.write(img, "png", face.toFile()));
    }

    record Run(int code, String out, String err, String log) {
    }

    static Run run(String... args) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int[] code = new int[1];
        String log = StderrCapture.of(() -> code[0] = RuntimeMain.run(args,
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8)));
        return new Run(code[0], out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), log);
    }

    @Test
    void cudaOnTheCpuBuildIsAFailureWithAClearError() throws Exception {
        Run r = run("verify", "--model", model.toString(), "--provider", "cuda", face.toString(), face.toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().startsWith("error: CUDA execution provider cannot be used for model " + model
                + ": this is the ONNX Runtime CPU build (execution providers [CPU])."), r.err());
        assertFalse(r.log().contains("WARN"), r.log());
    }

    @Test
    void autoOnTheCpuBuildSaysSoAtInfoAndDoesNotWarn() throws Exception {
        Run r = run("verify", "--model", model.toString(), face.toString(), face.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("provider: CPU (ONNX Runtime CPU build, which has no CUDA provider)"), r.out());
        assertTrue(r.log().contains("INFO io.spherekit.runtime.FaceEmbedder - ONNX Runtime CPU build: running on CPU"
                + " (m.onnx)"), r.log());
        assertFalse(r.log().contains("WARN"), r.log());
        assertFalse(r.log().contains("CUDA unavailable"), r.log());
    }
}
