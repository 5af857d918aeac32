package io.spherekit.core.io;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one way SphereKit writes a finished file: models, checkpoints, caches, galleries, ONNX files, reports
 * (JSON, CSV) and plots. A reader, or a process killed at any moment, sees either the old file or the complete new
 * one, never a part.
 *
 * <p>The policy, for every write:
 * <ol>
 *   <li>temporary files of the same target that a killed writer left behind are deleted: those named with the
 *       id of a process that no longer runs, or (written before names carried it) not modified for
 *       {@link #STALE_AFTER_MILLIS} ({@link #deleteStaleTemps});</li>
 *   <li>a temporary file {@code .<name>.<pid>-<random>.tmp} is created in the target's own folder (so the final
 *       rename never crosses file systems), with the default permissions of a new file; {@code pid} is this
 *       process's id;</li>
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

    /** Age after which a temporary file without a process id in its name counts as left behind: one hour. */
    public static final long STALE_AFTER_MILLIS = 3_600_000L;

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
        deleteStaleTemps(dir, abs.getFileName().toString());
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

    /**
     * Deletes the temporary files of {@code name} in {@code dir} that no running writer owns: named with the id of a
     * process that is no longer alive, or, for names without an id (the format before), not modified for
     * {@link #STALE_AFTER_MILLIS}. A temporary file of a live process (another thread or program writing the same
     * target right now) is left alone. Errors are ignored: cleaning up must not fail a write.
     *
     * @return how many files were deleted
     */
    static int deleteStaleTemps(Path dir, String name) {
        String prefix = "." + name + ".";
        int deleted = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, p -> {
            String f = p.getFileName().toString();
            return f.startsWith(prefix) && f.endsWith(".tmp");
        })) {
            for (Path p : ds) {
                String middle = p.getFileName().toString();
                middle = middle.substring(prefix.length(), middle.length() - ".tmp".length());
                Matcher m = TEMP_ID.matcher(middle);
                boolean stale;
                if (m.matches()) {
                    stale = ProcessHandle.of(Long.parseLong(m.group(1))).map(h -> !h.isAlive()).orElse(true);
                } else if (OLD_TEMP_ID.matcher(middle).matches()) {
                    stale = System.currentTimeMillis() - Files.getLastModifiedTime(p).toMillis() > STALE_AFTER_MILLIS;
                } else {
                    continue; // not one of ours
                }
                if (stale && Files.deleteIfExists(p)) {
                    deleted++;
                }
            }
        } catch (IOException | RuntimeException e) {
            // best effort
        }
        return deleted;
    }

    private static final Pattern TEMP_ID = Pattern.compile("([0-9]{1,19})-[0-9a-f]{16}");
    private static final Pattern OLD_TEMP_ID = Pattern.compile("[0-9a-f]{16}");

    private static Path createTemp(Path dir, String name) throws IOException {
        long pid = ProcessHandle.current().pid();
        for (int attempt = 0; ; attempt++) {
            String rnd = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
            Path tmp = dir.resolve("." + name + "." + pid + "-" + rnd + ".tmp");
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
