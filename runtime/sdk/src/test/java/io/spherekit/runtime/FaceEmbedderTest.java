package io.spherekit.runtime;

import io.spherekit.core.ModelCard;
import io.spherekit.core.SphereKitException;
import io.spherekit.core.Preprocessing;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FaceEmbedderTest {

    static final int H = 112;
    static final int W = 96;
    static final int D = 8;
    static final Preprocessing PRE = Preprocessing.fullImage(H, W, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB);

    @TempDir
    static Path dir;
    static Path model;
    static Path bareModel;
    static FaceEmbedder shared;

    @BeforeAll
    static void setUp() throws Exception {
        Map<String, String> md = new HashMap<>(PRE.toMetadata());
        md.put(Verifier.THRESHOLD_KEY, "0.5");
        md.put("spherekit.note", "test");
        model = TestModels.standard(dir.resolve("tiny.onnx"), new Object[] {"batch", 3, H, W}, H, W, D, md);
        bareModel = TestModels.standard(dir.resolve("bare.onnx"), new Object[] {"batch", 3, "h", "w"}, H, W, D,
                Map.of());
        shared = FaceEmbedder.builder().setModelPath(model).optProvider(Provider.CPU).optIntraOpThreads(1).build();
    }

    @AfterAll
    static void tearDown() {
        shared.close();
    }

    static BufferedImage solid(int w, int h, Color c) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(c);
        g.fillRect(0, 0, w, h);
        g.dispose();
        return img;
    }

    /** A face-less stand-in for colour {@code c}: see {@link TestModels#textured}. */
    static BufferedImage textured(int w, int h, Color c) {
        return TestModels.textured(w, h, c);
    }

    /** The standard model's embedding of {@code img} under {@link #PRE}, by hand ({@link TestModels#expectedOf}). */
    static double[] expectedOf(BufferedImage img) {
        return TestModels.expectedOf(PRE, img, D);
    }

    /** Mean normalised R, G, B of {@code img}'s model input under {@code pre}, by hand. */
    static double[] channelMeans(Preprocessing pre, BufferedImage img) {
        byte[] px = pre.cropResize(img);
        double[] m = new double[3];
        for (int i = 0; i < px.length; i++) {
            m[i % 3] += ((px[i] & 0xFF) - pre.mean()) * pre.scale();
        }
        int n = px.length / 3;
        return new double[] {m[0] / n, m[1] / n, m[2] / n};
    }

    static BufferedImage noise(long seed) {
        Random r = new Random(seed);
        BufferedImage img = new BufferedImage(40, 48, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                img.setRGB(x, y, r.nextInt(0x1000000));
            }
        }
        return img;
    }

    static double n(int c) {
        return (c - 127.5f) * (1f / 128f);
    }

    static void assertEmbedding(double[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int j = 0; j < expected.length; j++) {
            assertEquals(expected[j], actual[j], 1e-4, "component " + j + " of " + Arrays.toString(actual));
        }
    }

    @Test
    void cpuEmbeddingMatchesHandComputedValue() throws Exception {
        assertEquals(Provider.CPU, shared.provider());
        assertEquals("CPU requested", shared.providerReason());
        assertEquals(D, shared.embeddingDim());
        assertEquals(PRE, shared.preprocessing());
        assertEquals("test", shared.metadata().get("spherekit.note"));
        // (200,100,50) -> r = 72.5/128, g = -27.5/128, b = -77.5/128; c0 = -32.5/128, c1 = 150/128 + 0.5
        BufferedImage img = textured(250, 250, new Color(200, 100, 50));
        float[] e = shared.embed(img);
        assertEmbedding(expectedOf(img), e);
        // the checkerboard (+-24, unclamped here) averages back to the colour within a grey level
        double c0 = -32.5 / 128;
        double c1 = 150.0 / 128 + 0.5;
        assertEquals(c0 + c1, e[0], 3.0 / 128);
        assertEquals(2 * c0 - c1 + 0.1, e[1], 3.0 / 128);
    }

    @Test
    void blankAndUniformImagesAreRefusedAsNoFace() throws Exception {
        // solid colours, and a flat grey with a one-level dither (std 0.5), are no face: refused, never embedded
        BufferedImage dither = new BufferedImage(60, 70, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 70; y++) {
            for (int x = 0; x < 60; x++) {
                int v = 128 + ((x + y) & 1);
                dither.setRGB(x, y, (v << 16) | (v << 8) | v);
            }
        }
        for (BufferedImage img : List.of(solid(250, 250, new Color(128, 128, 128)), solid(30, 30, Color.RED),
                solid(250, 250, Color.BLACK), solid(250, 250, Color.WHITE), dither)) {
            NoFaceException e = assertThrows(NoFaceException.class, () -> shared.embed(img, "blank.png"));
            assertTrue(e.getMessage().startsWith("no face found in blank.png: uniform image (pixel standard"
                    + " deviation "), e.getMessage());
            assertThrows(NoFaceException.class, () -> shared.embed(List.of(textured(30, 30, Color.BLUE), img),
                    List.of("ok.png", "blank.png")));
        }
        // the std-dev the check uses, by hand: the largest per-channel one. Two pixels (0,9,255), (4,9,255):
        // R {0, 4} -> mean 2, std 2; G and B constant -> 0. A pure red pixel pair: 0 in every channel.
        assertEquals(2.0, FaceEmbedder.pixelStd(new byte[] {0, 9, (byte) 255, 4, 9, (byte) 255}), 1e-12);
        assertEquals(0.0, FaceEmbedder.pixelStd(new byte[] {(byte) 255, 0, 0, (byte) 255, 0, 0}), 1e-12);
        // the textured stand-ins of the other tests pass it
        assertTrue(FaceEmbedder.pixelStd(PRE.cropResize(textured(3, 3, Color.RED))) >= FaceEmbedder.MIN_PIXEL_STD);
    }

    @Test
    void batchEqualsSingles() throws Exception {
        List<BufferedImage> imgs = List.of(textured(30, 30, Color.RED), noise(1), textured(7, 9, new Color(10, 20, 30)));
        float[][] batch = shared.embed(imgs);
        assertEquals(3, batch.length);
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(shared.embed(imgs.get(i)), batch[i], 1e-5f);
        }
        assertEmbedding(expectedOf(imgs.get(0)), batch[0]);
        assertEquals(0, shared.embed(List.of()).length);
        float[] t = new float[2 * PRE.tensorSize()];
        assertEquals(2, shared.embedTensor(t, 2).length);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> shared.embedTensor(t, 3));
        assertTrue(e.getMessage().contains("n*3*H*W"), e.getMessage());
    }

    @Test
    void preprocessingFromBuilderWhenMetadataHasNone() throws Exception {
        SphereKitException e = assertThrows(SphereKitException.class,
                () -> FaceEmbedder.builder().setModelPath(bareModel).optProvider(Provider.CPU).build());
        assertTrue(e.getMessage().contains("spherekit.input") && e.getMessage().contains("optPreprocessing"),
                e.getMessage());
        try (FaceEmbedder fe = FaceEmbedder.builder().setModelPath(bareModel).optProvider(Provider.CPU)
                .optPreprocessing(PRE).build()) {
            assertSame(PRE, fe.preprocessing());
            assertTrue(fe.metadata().isEmpty());
            assertEmbedding(expectedOf(textured(5, 5, Color.BLUE)), fe.embed(textured(5, 5, Color.BLUE)));
        }
    }

    /** Whether the ONNX Runtime jar on the test class path (the default CPU one unless -Pgpu) has CUDA. */
    static boolean realBuildHasCuda() {
        LargeStack.environment();
        return OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA);
    }

    @Test
    void cudaOnCpuBuildFailsClearly() throws Exception {
        EnumSet<OrtProvider> cpuOnly = EnumSet.of(OrtProvider.CPU);
        String log = StderrCapture.of(() -> {
            SphereKitException e = assertThrows(SphereKitException.class, () -> FaceEmbedder.builder()
                    .setModelPath(model).optProvider(Provider.CUDA).buildProviders(cpuOnly).build());
            assertEquals("CUDA execution provider cannot be used for model " + model + ": this is the ONNX Runtime"
                    + " CPU build (execution providers [CPU]). It needs the onnxruntime_gpu jar (mvn -Pgpu) with CUDA"
                    + " 12 and cuDNN 9 libraries on the library path, or a custom ONNX Runtime build selected with"
                    + " -Donnxruntime.native.path=DIR; use provider CPU or AUTO to run on the CPU", e.getMessage());
        });
        assertFalse(log.contains("WARN"), log);
    }

    @Test
    void cudaOnCpuBuildFailsClearlyWithTheRealProviderList() {
        assumeFalse(realBuildHasCuda(), "only on the CPU build (the default); with -Pgpu the real list has CUDA");
        SphereKitException e = assertThrows(SphereKitException.class,
                () -> FaceEmbedder.builder().setModelPath(model).optProvider(Provider.CUDA).build());
        assertTrue(e.getMessage().contains(": this is the ONNX Runtime CPU build (execution providers [CPU])"),
                e.getMessage());
    }

    @Test
    void autoOnCpuBuildRunsOnCpuWithoutTryingCuda() throws Exception {
        assumeFalse(realBuildHasCuda(), "only on the CPU build (the default); with -Pgpu the real list has CUDA");
        FaceEmbedder[] fe = new FaceEmbedder[1];
        String log = StderrCapture.of(() -> fe[0] = FaceEmbedder.builder().setModelPath(model).build());
        try (FaceEmbedder e = fe[0]) {
            assertEquals(Provider.CPU, e.provider());
            assertEquals("ONNX Runtime CPU build, which has no CUDA provider", e.providerReason());
            assertEmbedding(expectedOf(textured(5, 5, Color.GREEN)), e.embed(textured(5, 5, Color.GREEN)));
        }
        assertTrue(log.contains("INFO io.spherekit.runtime.FaceEmbedder - ONNX Runtime CPU build: running on CPU"
                + " (tiny.onnx)"), log);
        assertFalse(log.contains("WARN"), log);
        assertFalse(log.contains("CUDA unavailable"), log);
    }

    /**
     * A GPU build whose CUDA libraries do not load: the seam says the build has CUDA, so AUTO really calls
     * {@code addCUDA}, which fails on this (CPU) build; the embedder must fall back to CPU with a WARN naming the
     * model and the load error, and record the same reason.
     */
    @Test
    void autoOnGpuBuildWithoutCudaLibrariesFallsBackWithWarn() throws Exception {
        assumeFalse(realBuildHasCuda(), "needs a build where addCUDA fails; with -Pgpu CUDA may really load");
        FaceEmbedder[] fe = new FaceEmbedder[1];
        String log = StderrCapture.of(() -> fe[0] = FaceEmbedder.builder().setModelPath(model)
                .buildProviders(EnumSet.of(OrtProvider.CPU, OrtProvider.CUDA)).build());
        String reason;
        try (FaceEmbedder e = fe[0]) {
            assertEquals(Provider.CPU, e.provider());
            reason = e.providerReason();
            String prefix = "CUDA unavailable, fell back to CPU: ";
            assertTrue(reason.startsWith(prefix), reason);
            // ORT 1.29's CPU build answers addCUDA with "Failed to find CUDA shared provider" (ORT_EP_FAIL)
            assertTrue(reason.substring(prefix.length()).contains("CUDA"), reason);
            assertEmbedding(expectedOf(textured(5, 5, Color.GREEN)), e.embed(textured(5, 5, Color.GREEN)));
        }
        assertTrue(log.contains("WARN io.spherekit.runtime.FaceEmbedder - " + model + ": " + reason), log);
        assertFalse(log.contains("CPU build"), log);
    }

    @Test
    void cudaOnGpuBuildWithoutCudaLibrariesFailsWithTheLoadError() {
        assumeFalse(realBuildHasCuda(), "needs a build where addCUDA fails; with -Pgpu CUDA may really load");
        SphereKitException e = assertThrows(SphereKitException.class, () -> FaceEmbedder.builder().setModelPath(model)
                .optProvider(Provider.CUDA).buildProviders(EnumSet.of(OrtProvider.CPU, OrtProvider.CUDA)).build());
        assertTrue(e.getMessage().startsWith("CUDA execution provider cannot be used for model " + model + ": "),
                e.getMessage());
        assertFalse(e.getMessage().contains("CPU build"), e.getMessage());
        assertTrue(e.getMessage().contains("-Donnxruntime.native.path=DIR"), e.getMessage());
        assertNotNull(e.getCause());
    }

    @Test
    void wrongInputRankRejected() throws Exception {
        Path m = TestModels.flatInput(dir.resolve("flat.onnx"), 4, 4, D);
        SphereKitException e = assertThrows(SphereKitException.class, () -> FaceEmbedder.builder()
                .setModelPath(m).optProvider(Provider.CPU).optPreprocessing(PRE).build());
        assertTrue(e.getMessage().contains("expected input 'x' of rank 4 [N,3,H,W] float, found rank 2 [-1, 48]"),
                e.getMessage());
    }

    @Test
    void wrongOutputRankRejected() throws Exception {
        Path m = TestModels.convOnly(dir.resolve("convonly.onnx"), H, W);
        SphereKitException e = assertThrows(SphereKitException.class, () -> FaceEmbedder.builder()
                .setModelPath(m).optProvider(Provider.CPU).optPreprocessing(PRE).build());
        assertTrue(e.getMessage().contains("expected output 'features' of rank 2 [N,D] float, found rank 4"),
                e.getMessage());
    }

    @Test
    void fixedSizeMismatchRejected() throws Exception {
        Path m = TestModels.standard(dir.resolve("64.onnx"), new Object[] {"batch", 3, 64, 64}, 64, 64, D, Map.of());
        SphereKitException e = assertThrows(SphereKitException.class, () -> FaceEmbedder.builder()
                .setModelPath(m).optProvider(Provider.CPU).optPreprocessing(PRE).build());
        assertTrue(e.getMessage().contains("matching the preprocessing 112x96")
                && e.getMessage().contains("[-1, 3, 64, 64]"), e.getMessage());
    }

    @Test
    void fixedBatchModelIsChunked() throws Exception {
        Path m = TestModels.standard(dir.resolve("b1.onnx"), new Object[] {1, 3, H, W}, H, W, D, PRE.toMetadata());
        try (FaceEmbedder fe = FaceEmbedder.builder().setModelPath(m).optProvider(Provider.CPU).build()) {
            List<BufferedImage> three = List.of(textured(4, 4, Color.RED), textured(4, 4, Color.BLUE),
                    textured(4, 4, Color.GREEN));
            float[][] e = fe.embed(three);
            for (int i = 0; i < 3; i++) {
                assertEmbedding(expectedOf(three.get(i)), e[i]);
            }
        }
    }

    @Test
    void fixedBatchAboveOneIsChunkedAndTheLastChunkPadded() throws Exception {
        // input [4,3,H,W]: ONNX Runtime refuses any other batch, so 1, 4, 5 and 9 images must go in chunks of 4
        Path m = TestModels.standard(dir.resolve("b4.onnx"), new Object[] {4, 3, H, W}, H, W, D, PRE.toMetadata());
        Color[] colours = {Color.RED, Color.BLUE, Color.GREEN, Color.WHITE, Color.BLACK, new Color(200, 100, 50),
            new Color(10, 20, 30), Color.GRAY, new Color(250, 0, 120)};
        try (FaceEmbedder fe = FaceEmbedder.builder().setModelPath(m).optProvider(Provider.CPU).build()) {
            for (int n : new int[] {1, 4, 5, 9}) {
                List<BufferedImage> imgs = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    imgs.add(textured(6, 6, colours[i]));
                }
                float[][] e = fe.embed(imgs);
                assertEquals(n, e.length, "one embedding per image, the padding dropped");
                for (int i = 0; i < n; i++) {
                    assertEmbedding(expectedOf(imgs.get(i)), e[i]);
                }
            }
        }
    }

    @Test
    void aModelCardOverridesTheMetadataFieldByFieldAndNamesWhatIsMissing() throws Exception {
        // the card's BGR over the metadata's RGB: channel 0 holds blue, so red and blue swap in the expectation
        ModelCard bgr = ModelCard.builder().channelOrder("BGR").build();
        try (FaceEmbedder fe = FaceEmbedder.builder().setModelPath(model).optProvider(Provider.CPU)
                .optModelCard(bgr).build()) {
            assertEquals(Preprocessing.fullImage(H, W, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.BGR),
                    fe.preprocessing());
            BufferedImage img = textured(9, 9, new Color(200, 100, 50));
            double[] rgb = channelMeans(PRE, img);
            assertEmbedding(TestModels.expected(rgb[2], rgb[1], rgb[0], D), fe.embed(img));
        }
        // a model without metadata and symbolic H, W: the card must give all four required fields
        FaceEmbedder.IncompletePreprocessingException e = assertThrows(
                FaceEmbedder.IncompletePreprocessingException.class, () -> FaceEmbedder.builder()
                        .setModelPath(bareModel).optProvider(Provider.CPU).optModelCard(ModelCard.builder()
                                .mean(127.5).build()).build());
        assertEquals(List.of(ModelCard.Field.INPUT_SIZE, ModelCard.Field.SCALE, ModelCard.Field.CHANNEL_ORDER),
                e.missing());
        assertTrue(e.getMessage().contains("gives no input_size, scale, channel_order"), e.getMessage());
        // a fixed [1,3,112,112] input gives the size; mean 0 scale 1/255 so the expectation differs from the default
        Path fixed = TestModels.standard(dir.resolve("arcface-like.onnx"), new Object[] {1, 3, 112, 112}, 112, 112, D,
                Map.of());
        try (FaceEmbedder fe = FaceEmbedder.builder().setModelPath(fixed).optProvider(Provider.CPU)
                .optModelCard(ModelCard.builder().mean(0).std(255).channelOrder("RGB").build()).build()) {
            assertEquals(Preprocessing.fullImage(112, 112, 0f, (float) (1.0 / 255), Preprocessing.ChannelOrder.RGB),
                    fe.preprocessing());
            List<BufferedImage> two = List.of(textured(7, 7, new Color(255, 0, 51)), textured(7, 7, Color.BLACK));
            float[][] out = fe.embed(two);
            assertEmbedding(TestModels.expectedOf(fe.preprocessing(), two.get(0), D), out[0]);
            assertEmbedding(TestModels.expectedOf(fe.preprocessing(), two.get(1), D), out[1]);
        }
    }

    @Test
    void badModelFilesRejected() throws Exception {
        byte[] good = Files.readAllBytes(model);
        Path truncated = Files.write(dir.resolve("truncated.onnx"), Arrays.copyOf(good, good.length / 2));
        Path text = Files.writeString(dir.resolve("text.onnx"), "this is not an onnx model\n");
        for (Path p : List.of(truncated, text)) {
            SphereKitException e = assertThrows(SphereKitException.class,
                    () -> FaceEmbedder.builder().setModelPath(p).optProvider(Provider.CPU).build());
            assertTrue(e.getMessage().startsWith("model " + p + " cannot be loaded"), e.getMessage());
            assertNotNull(e.getCause());
        }
        Path missing = dir.resolve("missing.onnx");
        SphereKitException e = assertThrows(SphereKitException.class,
                () -> FaceEmbedder.builder().setModelPath(missing).optProvider(Provider.CPU).build());
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> FaceEmbedder.builder().build());
    }

    @Test
    void concurrentVerificationsAreBitIdenticalToSerial() throws Exception {
        List<BufferedImage> imgs = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            imgs.add(noise(i));
        }
        Verifier v = Verifier.fromModelMetadata(shared);
        int perThread = 1000;
        double[] serial = new double[perThread];
        for (int i = 0; i < perThread; i++) {
            serial[i] = v.verify(imgs.get(i % 10), imgs.get((i * 7 + 3) % 10)).score();
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<double[]>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int offset = t;
                futures.add(pool.submit(() -> {
                    double[] s = new double[perThread];
                    for (int k = 0; k < perThread; k++) {
                        int i = (k + offset * 25) % perThread; // each thread walks the list from its own start
                        s[i] = v.verify(imgs.get(i % 10), imgs.get((i * 7 + 3) % 10)).score();
                    }
                    return s;
                }));
            }
            for (Future<double[]> f : futures) {
                double[] s = f.get();
                for (int i = 0; i < perThread; i++) {
                    assertEquals(Double.doubleToRawLongBits(serial[i]), Double.doubleToRawLongBits(s[i]),
                            "verification " + i);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseThrows() throws Exception {
        FaceEmbedder fe = FaceEmbedder.builder().setModelPath(model).optProvider(Provider.CPU).build();
        fe.embed(textured(3, 3, Color.RED));
        fe.close();
        fe.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> fe.embed(textured(3, 3, Color.RED)));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> fe.embed(List.of(textured(3, 3, Color.RED))));
        assertThrows(IllegalStateException.class, () -> fe.embedTensor(new float[PRE.tensorSize()], 1));
        assertEquals(D, fe.embeddingDim());
    }
}
