package io.spherekit.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl;
import io.spherekit.core.ModelMetadata.Key;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.SphereKitException;
import io.spherekit.core.TestTimeFlip;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Test-time flip in {@link FaceEmbedder}: the expected values are computed here from the model's weights
 * ({@link TestModels#linear}) and from images mirrored here pixel by pixel, never from the embedder's own output.
 */
class FlipEmbeddingTest {

    static final int H = 8;
    static final int W = 6;
    static final int D = 5;
    static final Preprocessing PRE = Preprocessing.fullImage(H, W, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB);

    @TempDir
    Path dir;

    /** A random RGB image of the model's input size (so the full-image crop is the image itself). */
    static BufferedImage noise(long seed) {
        Random r = new Random(seed);
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                img.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        return img;
    }

    /** {@code img} mirrored left-right, pixel by pixel. */
    static BufferedImage mirrored(BufferedImage img) {
        BufferedImage m = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                m.setRGB(W - 1 - x, y, img.getRGB(x, y));
            }
        }
        return m;
    }

    /** The model input of {@code img} by hand: CHW, RGB, (p − 127.5) / 128. */
    static float[] chw(BufferedImage img) {
        float[] t = new float[3 * H * W];
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                int rgb = img.getRGB(x, y);
                int[] c = {(rgb >> 16) & 0xFF, (rgb >> 8) & 0xFF, rgb & 0xFF};
                for (int ch = 0; ch < 3; ch++) {
                    t[(ch * H + y) * W + x] = (c[ch] - 127.5f) / 128f;
                }
            }
        }
        return t;
    }

    static double[] unit(double[] v) {
        double n = 0;
        for (double x : v) {
            n += x * x;
        }
        n = Math.sqrt(n);
        double[] u = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            u[i] = v[i] / n;
        }
        return u;
    }

    static void assertClose(double[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol, what + "[" + i + "]");
        }
    }

    FaceEmbedder open(Path model, TestTimeFlip flip) throws SphereKitException {
        return FaceEmbedder.builder().setModelPath(model).optProvider(Provider.CPU).optIntraOpThreads(1)
                .optFlip(flip).build();
    }

    @Test
    void sumAndConcatCombineTheFaceWithItsMirror() throws Exception {
        TestModels.Linear lin = TestModels.linear(dir.resolve("lin.onnx"), "batch", H, W, D, 7, PRE.toMetadata());
        BufferedImage img = noise(1);
        BufferedImage mir = mirrored(img);
        double[] e = lin.embed(chw(img));
        double[] f = lin.embed(chw(mir));
        double[] ue = unit(e);
        double[] uf = unit(f);
        double[] sum = new double[D];
        for (int j = 0; j < D; j++) {
            sum[j] = ue[j] + uf[j];
        }
        sum = unit(sum);
        double[] concat = new double[2 * D];
        for (int j = 0; j < D; j++) {
            concat[j] = ue[j] / Math.sqrt(2);
            concat[D + j] = uf[j] / Math.sqrt(2);
        }
        double[] concatOfMirror = new double[2 * D];
        System.arraycopy(concat, D, concatOfMirror, 0, D);
        System.arraycopy(concat, 0, concatOfMirror, D, D);

        try (FaceEmbedder none = open(lin.path(), null);
             FaceEmbedder s = open(lin.path(), TestTimeFlip.SUM);
             FaceEmbedder c = open(lin.path(), TestTimeFlip.CONCAT)) {
            assertEquals(TestTimeFlip.NONE, none.flip(), "no flip metadata: none");
            assertEquals(D, none.embeddingDim());
            assertEquals(D, s.embeddingDim());
            assertEquals(2 * D, c.embeddingDim());
            assertEquals(D, c.modelEmbeddingDim());
            assertClose(e, none.embed(img), 1e-4, "none = the model's raw output");
            assertClose(f, none.embed(mir), 1e-4, "none of the mirror");
            assertClose(sum, s.embed(img), 1e-5, "sum");
            assertClose(sum, s.embed(mir), 1e-5, "sum is the same for the mirrored image");
            assertClose(concat, c.embed(img), 1e-5, "concat");
            assertClose(concatOfMirror, c.embed(mir), 1e-5, "concat of the mirror = the halves swapped");
            // the same in batches, and through embedTensor
            float[][] batch = s.embed(List.of(noise(2), img, mir));
            assertClose(sum, batch[1], 1e-5, "sum, batch item 1");
            assertClose(sum, batch[2], 1e-5, "sum, batch item 2");
            assertClose(lin.embed(chw(noise(2))), none.embed(List.of(noise(2), img))[0], 1e-4, "none, batch");
        }
    }

    @Test
    void aFixedBatchModelGetsTheMirrorsInItsChunks() throws Exception {
        TestModels.Linear lin = TestModels.linear(dir.resolve("fixed4.onnx"), 4, H, W, D, 11, PRE.toMetadata());
        List<BufferedImage> imgs = List.of(noise(3), noise(4), noise(5));
        try (FaceEmbedder c = open(lin.path(), TestTimeFlip.CONCAT)) {
            float[][] out = c.embed(imgs); // 6 model inputs in chunks of 4 (the last padded)
            for (int i = 0; i < imgs.size(); i++) {
                double[] ue = unit(lin.embed(chw(imgs.get(i))));
                double[] uf = unit(lin.embed(chw(mirrored(imgs.get(i)))));
                double[] want = new double[2 * D];
                for (int j = 0; j < D; j++) {
                    want[j] = ue[j] / Math.sqrt(2);
                    want[D + j] = uf[j] / Math.sqrt(2);
                }
                assertClose(want, out[i], 1e-5, "image " + i);
            }
        }
    }

    @Test
    void theModelsMetadataIsTheDefaultAndTheThresholdIsTiedToIt() throws Exception {
        Map<String, String> md = new HashMap<>(PRE.toMetadata());
        md.put(Key.INPUT_FLIP.key(), "sum");
        md.put(Verifier.THRESHOLD_KEY, "0.4");
        Path m = TestModels.linear(dir.resolve("sum.onnx"), "batch", H, W, D, 3, md).path();
        try (FaceEmbedder byDefault = open(m, null)) {
            assertEquals(TestTimeFlip.SUM, byDefault.flip());
            assertEquals(0.4, Verifier.fromModelMetadata(byDefault).threshold());
            assertTrue(ModelId.of(byDefault).endsWith("+flip=sum"), ModelId.of(byDefault));
        }
        try (FaceEmbedder none = open(m, TestTimeFlip.NONE)) {
            assertEquals(TestTimeFlip.NONE, none.flip());
            SphereKitException e = assertThrows(SphereKitException.class, () -> Verifier.fromModelMetadata(none));
            assertEquals("model " + m + "'s threshold 0.4 was calibrated with test-time flip sum (metadata"
                    + " spherekit.input.flip), but the embedder uses flip none: use flip sum, or give a threshold"
                    + " calibrated for flip none (e.g. evaluate --flip none --write-threshold)", e.getMessage());
            assertEquals(0.3, Verifier.withThreshold(none, 0.3).threshold(), "an explicit threshold is the caller's");
            assertFalse(ModelId.of(none).contains("+flip="), ModelId.of(none));
        }
        Path plain = TestModels.linear(dir.resolve("plain.onnx"), "batch", H, W, D, 3,
                Map.of(Key.INPUT_HEIGHT.key(), Integer.toString(H), Key.INPUT_WIDTH.key(), Integer.toString(W),
                        Verifier.THRESHOLD_KEY, "0.4")).path();
        try (FaceEmbedder concat = open(plain, TestTimeFlip.CONCAT)) {
            SphereKitException e = assertThrows(SphereKitException.class, () -> Verifier.fromModelMetadata(concat));
            assertTrue(e.getMessage().contains("calibrated with test-time flip none (metadata spherekit.input.flip"
                    + " absent), but the embedder uses flip concat"), e.getMessage());
        }
    }

    @Test
    void modelIdsOfDifferentFlipModesNeverMatch() {
        assertFalse(ModelId.sameModel("m.onnx@sha256:0123456789ab+flip=sum", "m.onnx@sha256:0123456789ab"));
        assertFalse(ModelId.sameModel("m.onnx@sha256:0123456789ab+flip=sum",
                "copy.onnx@sha256:0123456789ab+flip=concat"));
        assertTrue(ModelId.sameModel("m.onnx@sha256:0123456789ab+flip=sum", "copy.onnx@sha256:0123456789ab+flip=sum"));
        assertFalse(ModelId.sameModel("my-model+flip=sum", "my-model"));
        assertTrue(ModelId.sameModel("m.onnx@sha256:0123456789ab", "copy.onnx@sha256:0123456789ab"));
    }

    @Test
    void aConcatGalleryIsRefusedByAnUnflippedModelNamingTheFlip() throws Exception {
        Path g = dir.resolve("concat.gallery");
        Gallery.builder(2 * D).optModelId("lin.onnx@sha256:0123456789ab+flip=concat")
                .add("alice", new float[] {1, 0, 0, 0, 0, 0, 0, 0, 0, 1}).build().save(g);
        IOException e = assertThrows(IOException.class, () -> Gallery.load(g, D));
        assertEquals("gallery file " + g + " holds 10-d embeddings (model lin.onnx@sha256:0123456789ab+flip=concat)"
                + " but the model produces 5-d embeddings (one of the two uses test-time flip concat, which doubles"
                + " the dimension: use the flip mode the gallery was built with)", e.getMessage());
        assertEquals(2 * D, Gallery.load(g, 2 * D).dim());
    }

    @Test
    void writingAThresholdRecordsItsFlipMode() throws Exception {
        Path m = TestModels.linear(dir.resolve("w.onnx"), "batch", H, W, D, 5, PRE.toMetadata()).path();
        ModelThreshold.write(m, 0.25, "pairs 10-fold mean", TestTimeFlip.CONCAT);
        assertEquals("concat", metadata(m).get(Key.INPUT_FLIP.key()));
        try (FaceEmbedder e = open(m, null)) {
            assertEquals(TestTimeFlip.CONCAT, e.flip());
            assertEquals(2 * D, e.embeddingDim());
            assertEquals(0.25, Verifier.fromModelMetadata(e).threshold());
        }
        ModelThreshold.write(m, 0.5, "pairs 10-fold mean", TestTimeFlip.NONE);
        Map<String, String> md = metadata(m);
        assertFalse(md.containsKey(Key.INPUT_FLIP.key()), "none removes the key: " + md);
        assertEquals("0.5", md.get(Verifier.THRESHOLD_KEY));
        PRE.toMetadata().forEach((k, v) -> assertEquals(v, md.get(k), k));
    }

    @Test
    void malformedFlipMetadataIsRefusedNamingTheFile() throws Exception {
        Map<String, String> md = new HashMap<>(PRE.toMetadata());
        md.put(Key.INPUT_FLIP.key(), "mirror");
        Path m = TestModels.linear(dir.resolve("bad.onnx"), "batch", H, W, D, 5, md).path();
        SphereKitException e = assertThrows(SphereKitException.class, () -> open(m, null));
        assertEquals("model " + m + " has malformed metadata: metadata spherekit.input.flip='mirror' is not none,"
                + " sum or concat", e.getMessage());
    }

    private static Map<String, String> metadata(Path m) throws IOException {
        Map<String, String> md = new HashMap<>();
        OnnxMl.ModelProto.parseFrom(Files.readAllBytes(m)).getMetadataPropsList()
                .forEach(p -> md.put(p.getKey(), p.getValue()));
        return md;
    }
}
