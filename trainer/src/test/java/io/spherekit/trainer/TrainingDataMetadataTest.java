package io.spherekit.trainer;

import io.spherekit.core.ModelMetadata;
import io.spherekit.core.ModelMetadata.Key;
import io.spherekit.trainer.data.DataFingerprint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The training data goes into model.zip by name, list and content hash: the same folder at two absolute paths
 * gives the same metadata, and no metadata value holds a machine-local path.
 */
class TrainingDataMetadataTest {

    private static Map<String, String> train(Path images, Path run) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = TrainCli.create(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)).execute("--images", images.toString(),
                "--people", "none", "--out", run.toString(), "--no-cache", "--depth", "4", "--width", "0.0625",
                "--embedding-dim", "8", "--epochs", "1", "--batch", "8", "--val-fraction", "0",
                "--checkpoint-every", "0", "--threads", "1");
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        return ModelIO.load(run.resolve("model.zip"), false).metadata();
    }

    @Test
    void sameDataAtTwoLocationsGivesTheSameDataMetadataAndNoPath(@TempDir Path tmp) throws Exception {
        Path a = TinyTrainingTest.makeDataset(tmp.resolve("site-a").resolve("faces"), 2, 4, 3);
        Path b = tmp.resolve("elsewhere").resolve("deeper").resolve("faces");
        copyTree(a, b);

        Map<String, String> ma = train(a, tmp.resolve("run-a"));
        Map<String, String> mb = train(b, tmp.resolve("run-b"));

        for (Key k : List.of(Key.TRAINING_DATA, Key.TRAINING_DATA_LIST, Key.TRAINING_DATA_SHA256,
                Key.TRAINING_IDENTITIES, Key.TRAINING_IMAGES)) {
            assertTrue(ma.containsKey(k.key()), k + " missing: " + ma);
            assertEquals(ma.get(k.key()), mb.get(k.key()), k.key());
        }
        assertEquals("faces", ma.get(Key.TRAINING_DATA.key()));
        assertEquals("all identity folders, >= 2 images per identity", ma.get(Key.TRAINING_DATA_LIST.key()));
        assertEquals("8", ma.get(Key.TRAINING_IMAGES.key()));
        assertEquals(DataFingerprint.sha256(images(b)), ma.get(Key.TRAINING_DATA_SHA256.key()));
        for (Map<String, String> m : List.of(ma, mb)) {
            for (Map.Entry<String, String> e : m.entrySet()) {
                for (Path p : List.of(tmp, tmp.toAbsolutePath(), tmp.toRealPath())) {
                    assertFalse(e.getValue().contains(p.toString()), e.getKey() + " holds a local path: " + e.getValue());
                }
                assertFalse(e.getValue().contains("site-a") || e.getValue().contains("elsewhere"), e.toString());
            }
            // what the trainer wrote parses back unchanged
            assertEquals(m, ModelMetadata.parse(m).toMap());
        }
    }

    static List<Path> images(Path root) throws Exception {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    static void copyTree(Path from, Path to) throws Exception {
        List<Path> all = new ArrayList<>();
        try (Stream<Path> s = Files.walk(from)) {
            s.forEach(all::add);
        }
        for (Path p : all) {
            Path q = to.resolve(from.relativize(p).toString());
            if (Files.isDirectory(p)) {
                Files.createDirectories(q);
            } else {
                Files.copy(p, q);
            }
        }
    }
}
