package io.spherekit.core.io;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The one way SphereKit writes a finished file: models, checkpoints, caches, galleries, ONNX files, reports
 * (JSON, CSV) and plots. A reader, or a process killed at any moment, sees either the old file or the complete new
 * one, never a part.
 *
 * <p>The policy, for every write:
 * <ol>
 *   <li>a temporary file {@code .<name>.<random>.tmp} is created in the target's own folder (so the final rename
 *       never crosses file systems), with the default permissions of a new file;</li>
 *   <li>the content is written to it and forced to the device ({@link FileChannel#force});</li>
 *   <li>it is renamed over the target with {@link StandardCopyOption#ATOMIC_MOVE} and
 *       {@link StandardCopyOption#REPLACE_EXISTING};</li>
 *   <li>the folder is forced too, so the rename itself survives a crash, where the OS allows opening a folder
 *       (Linux, macOS; not Windows, where this step is skipped).</li>
 * </ol>
 * If the file system cannot rename atomically, the write fails with an {@link IOException} naming the target and
 * the reason: there is no silent fallback to a plain copy. On any failure the temporary file is deleted and an
 * existing target is left untouched.
 *
 * <p>The target's folder must exist (callers that own a run or output folder create it first); a missing folder is
 * an {@link IOException} naming it.
 *
 * <p>Not for append-only logs that grow while a program runs (the trainer's {@code train-log.jsonl}): those are
 * written line by line through an append stream, and a crash can at most cut the last line.
 */
public final class AtomicFiles {

    /** Writes content to an open stream or to a file; may throw {@link IOException}. */
    @FunctionalInterface
    public interface IOConsumer<T> {
        void accept(T t) throws IOException;
    }

    /** Renames a finished temporary file over the target; a seam so tests can simulate a file system. */
    @FunctionalInterface
    interface Mover {
        void move(Path source, Path target) throws IOException;
    }

    static final Mover ATOMIC = (s, t) -> Files.move(s, t, StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING);

    private AtomicFiles() {
    }

    /**
     * Writes {@code target} atomically from {@code body}, which writes the whole content to the given stream
     * (buffered; closing it is allowed and does not end the write early).
     *
     * @throws IOException naming the target: the folder is missing, the body failed (its message is kept), the
     *                     data could not be forced to disk, or the file system cannot rename atomically
     */
    public static void write(Path target, IOConsumer<OutputStream> body) throws IOException {
        write(target, body, ATOMIC);
    }

    /** Writes {@code bytes} to {@code target} atomically (see {@link #write(Path, IOConsumer)}). */
    public static void writeBytes(Path target, byte[] bytes) throws IOException {
        write(target, out -> out.write(bytes));
    }

    /** Writes {@code text} as UTF-8 to {@code target} atomically (see {@link #write(Path, IOConsumer)}). */
    public static void writeString(Path target, CharSequence text) throws IOException {
        writeBytes(target, text.toString().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Writes {@code target} atomically through a library that can only write to a named file (DL4J's
     * {@code ModelSerializer} writes a zip and then rewrites it to add entries): {@code body} receives the
     * temporary file, an existing empty file in the target's folder, and writes the complete content there.
     *
     * @throws IOException as {@link #write(Path, IOConsumer)}
     */
    public static void writeFile(Path target, IOConsumer<Path> body) throws IOException {
        writeFile(target, body, ATOMIC);
    }

    static void write(Path target, IOConsumer<OutputStream> body, Mover mover) throws IOException {
        writeFile(target, tmp -> {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
                body.accept(new FilterOutputStream(out) {
                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        out.write(b, off, len);
                    }

                    @Override
                    public void close() throws IOException {
                        out.flush(); // the channel stays open until the content is forced
                    }
                });
                out.flush();
                ch.force(true);
            }
        }, mover);
    }

    static void writeFile(Path target, IOConsumer<Path> body, Mover mover) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        Path dir = abs.getParent();
        if (dir == null || abs.getFileName() == null) {
            throw new IOException("cannot write " + target + ": not a file path");
        }
        if (!Files.isDirectory(dir)) {
            throw new IOException("cannot write " + target + ": the folder " + dir + " does not exist");
        }
        Path tmp = createTemp(dir, abs.getFileName().toString());
        boolean moved = false;
        try {
            body.accept(tmp);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            mover.move(tmp, abs);
            moved = true;
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot write " + target + " atomically: the file system of " + dir
                    + " does not support an atomic rename (" + e.getMessage() + "); write to a local folder instead",
                    e);
        } catch (IOException | RuntimeException e) {
            String m = e.getMessage();
            throw new IOException("cannot write " + target + ": "
                    + (m == null || m.isBlank() ? e.getClass().getSimpleName() : m), e);
        } finally {
            if (!moved) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the write already failed; that error is the one to report
                }
            }
        }
        syncDirectory(dir);
    }

    private static Path createTemp(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            String rnd = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
            Path tmp = dir.resolve("." + name + "." + rnd + ".tmp");
            try {
                return Files.createFile(tmp);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 8) {
                    throw e;
                }
            }
        }
    }

    /** Forces the folder's entries (the rename) to disk; skipped where a folder cannot be opened (Windows). */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // not supported by this OS or file system: the file itself is already forced
        }
    }
}
