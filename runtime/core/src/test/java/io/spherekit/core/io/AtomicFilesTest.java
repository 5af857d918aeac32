package io.spherekit.core.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void writesTheContentAndReplacesAnExistingFile() throws IOException {
        Path f = dir.resolve("report.json");
        AtomicFiles.writeString(f, "{\"a\": 1}\n");
        assertEquals("{\"a\": 1}\n", Files.readString(f));
        byte[] big = new byte[200_000]; // larger than the 64 KiB buffer
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i * 31 + 7);
        }
        AtomicFiles.write(f, out -> {
            out.write(big, 0, 100);
            out.write(big, 100, big.length - 100);
            out.close(); // a body may close the stream (Jackson does): the content still lands
        });
        assertArrayEquals(big, Files.readAllBytes(f));
        AtomicFiles.writeBytes(f, "é".getBytes(StandardCharsets.UTF_8));
        assertEquals("é", Files.readString(f));
        assertEquals(List.of(f), files());
    }

    @Test
    void writeFileHandsTheBodyATempFileInTheTargetFolder() throws IOException {
        Path f = dir.resolve("model.zip");
        Path[] seen = new Path[1];
        AtomicFiles.writeFile(f, tmp -> {
            seen[0] = tmp;
            Files.writeString(tmp, "zip");
            Files.writeString(tmp, "zip2"); // the body may rewrite the file (ModelSerializer does)
        });
        assertEquals(dir.toAbsolutePath().normalize(), seen[0].getParent());
        assertTrue(seen[0].getFileName().toString().startsWith(".model.zip."), seen[0].toString());
        assertEquals("zip2", Files.readString(f));
        assertEquals(List.of(f), files());
    }

    @Test
    void aFailingBodyLeavesTheOldFileAndNoTempFile() throws IOException {
        Path f = dir.resolve("gallery.bin");
        Files.writeString(f, "old");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(f, out -> {
            out.write(new byte[1000]);
            throw new IOException("disk full");
        }));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("disk full"), e.getMessage());
        assertEquals("old", Files.readString(f));
        assertEquals(List.of(f), files());

        RuntimeException boom = new IllegalStateException("encoder broke");
        e = assertThrows(IOException.class, () -> AtomicFiles.writeFile(f, tmp -> {
            Files.writeString(tmp, "half");
            throw boom;
        }));
        assertSame(boom, e.getCause());
        assertEquals("old", Files.readString(f));
        assertEquals(List.of(f), files());
    }

    @Test
    void noAtomicRenameIsAnErrorNotAFallback() throws IOException {
        Path f = dir.resolve("model.onnx");
        Files.writeString(f, "old");
        AtomicFiles.Mover noAtomic = (s, t) -> {
            throw new AtomicMoveNotSupportedException(s.toString(), t.toString(), "cross-device link");
        };
        IOException e = assertThrows(IOException.class,
                () -> AtomicFiles.write(f, out -> out.write("new".getBytes(StandardCharsets.UTF_8)), noAtomic));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("atomic rename") && e.getMessage().contains("cross-device link"),
                e.getMessage());
        assertTrue(e.getCause() instanceof AtomicMoveNotSupportedException);
        assertEquals("old", Files.readString(f));
        assertEquals(List.of(f), files());
    }

    @Test
    void aMissingFolderIsNamedAndNotCreated() {
        Path f = dir.resolve("nope").resolve("x.csv");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeString(f, "x"));
        assertTrue(e.getMessage().contains(dir.resolve("nope").toString()) && e.getMessage().contains("does not exist"),
                e.getMessage());
        assertFalse(Files.exists(f.getParent()));
    }

    @Test
    void theRealMoverReplacesAtomically() throws IOException {
        Path a = Files.writeString(dir.resolve("a"), "new");
        Path b = Files.writeString(dir.resolve("b"), "old");
        AtomicFiles.ATOMIC.move(a, b);
        assertEquals("new", Files.readString(b));
        assertFalse(Files.exists(a));
    }

    @Test
    void aStreamBodyWritesThroughToTheFileBeforeTheMove() throws IOException {
        Path f = dir.resolve("loss.png");
        byte[][] atMove = new byte[1][];
        AtomicFiles.write(f, (OutputStream out) -> out.write(new byte[] {1, 2, 3}), (s, t) -> {
            atMove[0] = Files.readAllBytes(s); // flushed and forced before the rename
            AtomicFiles.ATOMIC.move(s, t);
        });
        assertArrayEquals(new byte[] {1, 2, 3}, atMove[0]);
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(f));
    }
}
