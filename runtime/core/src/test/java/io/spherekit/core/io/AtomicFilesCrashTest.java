package io.spherekit.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety of {@link AtomicFiles}: a child JVM rewrites a 4 MiB file over and over (each version
 * self-checking: version number, pattern, SHA-256 trailer) and is killed with SIGKILL at several points (three
 * certainly inside a write, four after a delay, anywhere); the file
 * left behind is always one complete version, at least the last one the child reported finished, and the temporary
 * file a kill leaves is deleted by the next write of the same target.
 */
class AtomicFilesCrashTest {

    static final int SIZE = 4 << 20;

    @TempDir
    Path dir;

    /** Version {@code v}: 8 bytes v, then a pattern of v, then the SHA-256 of everything before it. */
    static byte[] content(long v) throws NoSuchAlgorithmException {
        byte[] b = new byte[SIZE];
        ByteBuffer.wrap(b).putLong(v);
        for (int i = 8; i < SIZE - 32; i++) {
            b[i] = (byte) (i * 31 + v * 7);
        }
        byte[] h = MessageDigest.getInstance("SHA-256").digest(Arrays.copyOf(b, SIZE - 32));
        System.arraycopy(h, 0, b, SIZE - 32, 32);
        return b;
    }

    /** @return the version held by a complete, self-consistent file; fails on a partial or mixed one */
    static long check(Path f) throws Exception {
        byte[] b = Files.readAllBytes(f);
        assertEquals(SIZE, b.length, f + " has the size of a complete version");
        long v = ByteBuffer.wrap(b).getLong();
        assertArrayEquals(content(v), b, f + " is exactly version " + v);
        return v;
    }

    /**
     * The child: writes versions 1, 2, ... of args[0] through AtomicFiles, in 64 KiB pieces, printing "done v" after
     * each. With args[1] = "pause", it prints "half v" in the middle of each write from version 2 on and pauses there
     * for 500 ms (a slow device), so that a kill then lands inside the write.
     */
    public static void main(String[] args) throws Exception {
        Path target = Path.of(args[0]);
        boolean pause = args.length > 1 && args[1].equals("pause");
        for (long v = 1; ; v++) {
            byte[] b = content(v);
            long version = v;
            AtomicFiles.write(target, out -> {
                for (int off = 0; off < b.length; off += 1 << 16) {
                    out.write(b, off, Math.min(1 << 16, b.length - off));
                    if (pause && version > 1 && off == b.length / 2) {
                        out.flush();
                        System.out.println("half " + version);
                        System.out.flush();
                        try {
                            Thread.sleep(500);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }
            });
            System.out.println("done " + v);
            System.out.flush();
        }
    }

    private List<Path> temps(String name) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("." + name + ".")).toList();
        }
    }

    @Test
    void sigkillAtAnyPointLeavesTheLastCompleteVersionAndTheNextWriteCleansUp() throws Exception {
        Path target = dir.resolve("model.onnx");
        // kill points: inside a write (the child paused half-way), and after various delays (anywhere)
        Object[] kills = {"half", 0L, "half", 7L, 29L, "half", 97L};
        int killedMidWrite = 0;
        for (Object kill : kills) {
            boolean half = kill.equals("half");
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                    System.getProperty("java.class.path"), AtomicFilesCrashTest.class.getName(), target.toString(),
                    half ? "pause" : "run").redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII));
            String first = out.readLine(); // at least one version is complete before the kill
            assertTrue(first != null && first.startsWith("done "), "child output: " + first);
            AtomicLong lastDone = new AtomicLong(Long.parseLong(first.substring(5)));
            long reported;
            if (half) {
                String line = out.readLine();
                assertTrue(line != null && line.startsWith("half "), "child output: " + line);
                reported = lastDone.get();
            } else {
                Thread reader = new Thread(() -> {
                    try {
                        for (String line; (line = out.readLine()) != null; ) {
                            if (line.startsWith("done ")) {
                                lastDone.set(Long.parseLong(line.substring(5)));
                            }
                        }
                    } catch (IOException e) {
                        // the stream closes with the process
                    }
                });
                reader.setDaemon(true);
                reader.start();
                Thread.sleep((Long) kill);
                reported = lastDone.get();
            }
            p.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no finally block runs
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(137, p.exitValue(), "killed by SIGKILL");
            long v = check(target); // the previous file is intact and loadable
            assertTrue(v >= reported, "version " + v + ", but the child had finished " + reported + " before the kill");
            List<Path> left = temps("model.onnx");
            assertTrue(left.size() <= 1, "at most the one temporary file of the killed write: " + left);
            killedMidWrite += left.size();
            if (half) {
                assertEquals(1, left.size(), "killed inside a write: its temporary file is left until the next write");
                assertEquals(reported, v, "killed inside the write of " + (reported + 1) + ": the previous version");
            }
            // the next write of the same target (a later run) deletes the dead writer's temporary file
            AtomicFiles.writeBytes(target, content(1000 + v));
            assertEquals(1000 + v, check(target));
            assertEquals(List.of(), temps("model.onnx"), "no temporary file left after the next write");
        }
        assertTrue(killedMidWrite >= 3, "the three kills inside a write left their temporary files");
    }

    @Test
    void aLiveWritersTempFileIsKeptAndOldUnnamedOnesExpire() throws Exception {
        Path target = dir.resolve("gallery.bin");
        long me = ProcessHandle.current().pid();
        Path live = dir.resolve(".gallery.bin." + me + "-0123456789abcdef.tmp"); // a write in progress here
        Path dead = dir.resolve(".gallery.bin." + deadPid() + "-0123456789abcdef.tmp");
        Path oldFormatFresh = dir.resolve(".gallery.bin.0123456789abcdef.tmp");
        Path oldFormatStale = dir.resolve(".gallery.bin.fedcba9876543210.tmp");
        Path other = dir.resolve(".other.bin." + deadPid() + "-0123456789abcdef.tmp"); // another target's
        for (Path p : List.of(live, dead, oldFormatFresh, oldFormatStale, other)) {
            Files.writeString(p, "partial");
        }
        Files.setLastModifiedTime(oldFormatStale, FileTime.fromMillis(System.currentTimeMillis()
                - AtomicFiles.STALE_AFTER_MILLIS - 60_000));
        AtomicFiles.writeString(target, "new");
        assertEquals("new", Files.readString(target));
        assertTrue(Files.exists(live), "a live process's temporary file is kept");
        assertFalse(Files.exists(dead), "a dead process's temporary file is deleted");
        assertTrue(Files.exists(oldFormatFresh), "an unnamed temporary file younger than the limit is kept");
        assertFalse(Files.exists(oldFormatStale), "an unnamed temporary file older than the limit is deleted");
        assertTrue(Files.exists(other), "another target's temporary files are not touched");
    }

    /** @return the id of a process that does not run: a child that has exited */
    static long deadPid() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-version").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        p.waitFor();
        long pid = p.pid();
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        return pid;
    }
}
