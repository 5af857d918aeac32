package io.spherekit.core;

import io.spherekit.core.ModelMetadata.Key;
import io.spherekit.core.ModelMetadata.TrainingData;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelMetadataTest {

    /** The entries of the committed fixture testdata/fixtures/model/sf4-tiny.zip, as that file holds them. */
    static Map<String, String> fixture() {
        Map<String, String> m = new TreeMap<>();
        m.put("spherekit.embedding_dim", "64");
        m.put("spherekit.head", "asoftmax");
        m.put("spherekit.head.lambda_final", "257.7319587628866");
        m.put("spherekit.head.lambda_schedule", "max(5.0, 1000.0*(1+0.12*iter)^-1.0)");
        m.put("spherekit.head.m", "4");
        m.put("spherekit.input.channel_order", "RGB");
        m.put("spherekit.input.crop", "0.268000,0.208000,0.456000,0.532000");
        m.put("spherekit.input.height", "112");
        m.put("spherekit.input.layout", "NCHW");
        m.put("spherekit.input.mean", "127.5");
        m.put("spherekit.input.scale", "0.0078125");
        m.put("spherekit.input.width", "96");
        m.put("spherekit.network", "sphereface-4");
        m.put("spherekit.training.data", "/tmp/fixture7600261710417700564/faces");
        m.put("spherekit.training.epochs", "3");
        m.put("spherekit.training.identities", "4");
        m.put("spherekit.training.images", "32");
        m.put("spherekit.training.iterations", "24");
        m.put("spherekit.version", "0.1.0");
        m.put("spherekit.width_multiplier", "0.0625");
        return m;
    }

    @Test
    void theCommittedFixtureParsesAndFormatsBackUnchanged() {
        ModelMetadata md = ModelMetadata.parse(fixture());
        assertEquals(fixture(), md.toMap());
        assertEquals(Preprocessing.LFW_SPHEREFACE, md.preprocessing().orElseThrow());
        assertEquals(64, md.embeddingDim().getAsInt());
        assertEquals(112, md.inputHeight().getAsInt());
        assertEquals(96, md.inputWidth().getAsInt());
        assertEquals("asoftmax", md.head().orElseThrow());
        assertEquals(4.0, md.number(Key.HEAD_M).getAsDouble());
        assertEquals(24, md.integer(Key.TRAINING_ITERATIONS).getAsInt());
        assertTrue(md.threshold().isEmpty());
        assertEquals(new TrainingData("/tmp/fixture7600261710417700564/faces", null, null),
                md.trainingData().orElseThrow());
        assertEquals(md, md.toBuilder().build());
    }

    @Test
    void unknownSpherekitKeysAreKeptAndForeignKeysLeftOut() {
        Map<String, String> m = new HashMap<>(Map.of("spherekit.note", "test", "producer.custom", "x",
                "spherekit.threshold", "0.31"));
        ModelMetadata md = ModelMetadata.parse(m);
        assertEquals(Map.of("spherekit.note", "test", "spherekit.threshold", "0.31"), md.toMap());
        assertEquals(0.31, md.threshold().getAsDouble());
        assertTrue(md.preprocessing().isEmpty());
        assertEquals(Map.of(), ModelMetadata.parse(null).toMap());
        assertEquals(ModelMetadata.EMPTY, ModelMetadata.parse(Map.of("other", "1")));
    }

    @Test
    void aBadValueIsNamedWithItsKey() {
        String[][] cases = {
                {"spherekit.input.height", "tall", "is not a positive integer"},
                {"spherekit.input.width", "0", "is not a positive integer"},
                {"spherekit.threshold", "abc", "is not a cosine threshold in [-1,1]"},
                {"spherekit.threshold", "1.5", "is not a cosine threshold in [-1,1]"},
                {"spherekit.embedding_dim", "-3", "is not a positive integer"},
                {"spherekit.training.iterations", "2.5", "is not an integer >= 0"},
                {"spherekit.width_multiplier", "NaN", "is not a finite number"},
                {"spherekit.input.channel_order", "GRB", "is not RGB or BGR"},
                {"spherekit.input.layout", "NHWC", "is not NCHW"},
                {"spherekit.input.crop", "0,0,1", "is not 4 comma-separated fractions left,top,width,height"},
                {"spherekit.input.crop", "0,0,1,1.5", "is not 4 comma-separated fractions left,top,width,height"},
                {"spherekit.input.assumed", "yes", "is not true or false"},
                {"spherekit.training.data.sha256", "ABC", "is not a SHA-256 (64 lower-case hex digits)"},
                {"spherekit.head", " ", "is not non-blank text"},
        };
        for (String[] c : cases) {
            Map<String, String> m = new HashMap<>(fixture());
            m.put(c[0], c[1]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelMetadata.parse(m),
                    c[0] + "=" + c[1]);
            assertEquals("metadata " + c[0] + "='" + c[1] + "' " + c[2], e.getMessage());
        }
        // a height without a width is no preprocessing
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelMetadata.parse(Map.of("spherekit.input.height", "112")));
        assertTrue(e.getMessage().contains("spherekit.input"), e.getMessage());
    }

    @Test
    void theBuilderFormatsTypedValuesAndRefusesPaths() {
        ModelMetadata md = ModelMetadata.builder()
                .preprocessing(Preprocessing.LFW_SPHEREFACE.withSize(64, 48))
                .put(Key.EMBEDDING_DIM, 128)
                .put(Key.WIDTH_MULTIPLIER, 0.5)
                .put(Key.THRESHOLD, 0.25)
                .headParameter("m", "0.35")
                .headParameter("s", "30.0")
                .trainingData(new TrainingData("lfw-deepfunneled", "peopleDevTrain.txt, >= 2 images per identity",
                        "ab".repeat(32)))
                .build();
        Map<String, String> m = md.toMap();
        assertEquals("128", m.get("spherekit.embedding_dim"));
        assertEquals("0.5", m.get("spherekit.width_multiplier"));
        assertEquals("0.25", m.get("spherekit.threshold"));
        assertEquals("0.35", m.get("spherekit.head.m"));
        assertEquals("30.0", m.get("spherekit.head.s"));
        assertEquals("64", m.get("spherekit.input.height"));
        assertEquals("48", m.get("spherekit.input.width"));
        assertEquals("lfw-deepfunneled", m.get("spherekit.training.data"));
        assertEquals("peopleDevTrain.txt, >= 2 images per identity", m.get("spherekit.training.data.list"));
        assertEquals("ab".repeat(32), m.get("spherekit.training.data.sha256"));
        assertEquals(md, ModelMetadata.parse(m));

        for (String path : new String[] {"/home/me/lfw/lfw-deepfunneled", "C:\\data\\lfw", "../lfw"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ModelMetadata.builder().put(Key.TRAINING_DATA, path));
            assertEquals("metadata spherekit.training.data='" + path
                    + "' must be a name, not a path (no machine-local path goes into a model)", e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> ModelMetadata.builder().put(Key.THRESHOLD, 2.0));
        assertThrows(IllegalArgumentException.class, () -> ModelMetadata.builder().headParameter("lambda", "1"));
        assertThrows(IllegalArgumentException.class, () -> md.integer(Key.THRESHOLD));
        assertFalse(ModelMetadata.builder().put(Key.HEAD, "softmax").put(Key.HEAD, (String) null).build()
                .head().isPresent());
    }

    @Test
    void theKeyTableIsOneNamespaceWithoutDuplicates() {
        Set<String> seen = new HashSet<>();
        for (Key k : Key.values()) {
            assertTrue(k.key().startsWith(ModelMetadata.PREFIX), k.key());
            assertTrue(seen.add(k.key()), "duplicate " + k.key());
            assertEquals(k, Key.of(k.key()).orElseThrow());
        }
        // Preprocessing writes only keys of the table
        for (String k : Preprocessing.LFW_SPHEREFACE.toMetadata().keySet()) {
            assertTrue(Key.of(k).isPresent(), k);
        }
    }
}
