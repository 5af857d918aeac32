package io.spherekit.trainer.data;

import io.spherekit.core.ModelMetadata.TrainingData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataFingerprintTest {

    @Test
    void hashIsTheDocumentedDigestOfRelativePathsSizesAndBytes(@TempDir Path tmp) throws Exception {
        Path root = tmp.resolve("set");
        Path bob = Files.createDirectories(root.resolve("bob"));
        Path al = Files.createDirectories(root.resolve("al"));
        Path b1 = Files.write(bob.resolve("b1.jpg"), new byte[] {1, 2, 3});
        Path a2 = Files.write(al.resolve("a2.png"), "xy".getBytes(StandardCharsets.US_ASCII));
        Path a1 = Files.write(al.resolve("a1.png"), new byte[0]);

        // the definition, spelled out byte by byte: al/a1.png, al/a2.png, bob/b1.jpg in that order
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(raw);
        d.write("al/a1.png".getBytes(StandardCharsets.UTF_8));
        d.write(0);
        d.writeLong(0);
        d.write("al/a2.png".getBytes(StandardCharsets.UTF_8));
        d.write(0);
        d.writeLong(2);
        d.write(new byte[] {'x', 'y'});
        d.write("bob/b1.jpg".getBytes(StandardCharsets.UTF_8));
        d.write(0);
        d.writeLong(3);
        d.write(new byte[] {1, 2, 3});
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(raw.toByteArray()));

        String h = DataFingerprint.sha256(List.of(b1, a2, a1)); // input order does not matter
        assertEquals(expected, h);
        // relative and absolute spellings of the same files agree
        assertEquals(h, DataFingerprint.sha256(List.of(a1.toAbsolutePath(), a2, b1.toAbsolutePath())));

        Files.write(b1, new byte[] {1, 2, 4});
        assertNotEquals(h, DataFingerprint.sha256(List.of(b1, a2, a1)), "an edited image changes the hash");

        TrainingData t = DataFingerprint.describe(root, tmp.resolve("lists").resolve("peopleDevTrain.txt"), 2, 5,
                List.of(a1, a2, b1));
        assertEquals("set", t.name());
        assertEquals("peopleDevTrain.txt, >= 2 images per identity, first 5 identities", t.list());
        assertEquals(64, t.sha256().length());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DataFingerprint.sha256(List.of(a1, a1)));
        assertTrue(e.getMessage().contains("al/a1.png"), e.getMessage());
        IOException io = assertThrows(IOException.class,
                () -> DataFingerprint.sha256(List.of(al.resolve("gone.png"))));
        assertTrue(io.getMessage().contains("gone.png"), io.getMessage());
    }
}
