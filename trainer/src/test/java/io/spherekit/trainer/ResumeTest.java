package io.spherekit.trainer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A run killed with SIGKILL mid-epoch and resumed with {@code --resume} ends bit-for-bit where an uninterrupted run
 * ends, every checkpoint left by the killed run still loads, and λ continues from the restored global iteration.
 */
class ResumeTest {

    static Process start(Path data, Path out, boolean resume) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx2g",
                "-cp", System.getProperty("java.class.path"), TrainCli.class.getName(),
                "--images", data.toString(), "--people", "none", "--out", out.toString(),
                "--depth", "4", "--width", "0.125", "--embedding-dim", "32", "--epochs", "6", "--batch", "4",
                "--checkpoint-every", "5", "--no-cache", "--val-fraction", "0", "--random-crop", "2", "--seed", "3"));
        if (resume) {
            cmd.add("--resume");
        }
        String ext = System.getProperty("org.bytedeco.javacpp.platform.extension");
        if (ext != null) { // the ND4J backend build this JVM loads (a CPU without AVX-512 needs -onednn)
            cmd.add(1, "-Dorg.bytedeco.javacpp.platform.extension=" + ext);
        }
        return new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(out.resolveSibling(out.getFileName() + (resume ? "-resume" : "") + ".log").toFile())
                .start();
    }

    static float[] params(Path model) throws Exception {
        INDArray p = ModelIO.load(model, false).graph().params();
        return p.toFloatVector();
    }

    @Test
    void killedRunResumesBitForBit(@TempDir Path tmp) throws Exception {
        Path data = TinyTrainingTest.makeDataset(tmp.resolve("faces"), 4, 8, 5);
        Path full = tmp.resolve("full");
        Process a = start(data, full, false);
        assertTrue(a.waitFor(240, TimeUnit.SECONDS), "uninterrupted run timed out");
        assertEquals(0, a.exitValue(), () -> log(tmp.resolve("full.log")));

        Path killed = tmp.resolve("killed");
        Process b = start(data, killed, false);
        Path ckDir = killed.resolve("checkpoints");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        // wait until the 3rd mid-epoch checkpoint (iteration 15 of 48) exists, then SIGKILL
        while (!Files.exists(ckDir.resolve("ckpt-00000015.zip")) && System.nanoTime() < deadline && b.isAlive()) {
            Thread.sleep(20);
        }
        assertTrue(b.isAlive(), "the run finished before it could be killed: " + log(tmp.resolve("killed.log")));
        b.destroyForcibly(); // SIGKILL on Unix
        b.waitFor();
        assertFalse(Files.exists(killed.resolve("model.zip")), "the killed run must not have finished");
        List<Path> cks = Checkpoints.list(killed);
        assertFalse(cks.isEmpty());
        for (Path ck : cks) {
            assertNotNull(ModelIO.load(ck, true).graph(), "checkpoint " + ck + " must load after the kill");
        }

        Process c = start(data, killed, true);
        assertTrue(c.waitFor(240, TimeUnit.SECONDS), "resumed run timed out");
        assertEquals(0, c.exitValue(), () -> log(tmp.resolve("killed-resume.log")));
        String resumedLog = log(tmp.resolve("killed-resume.log"));
        assertTrue(resumedLog.contains("resumed from"), resumedLog);
        assertFalse(resumedLog.contains("λ 1000.00"), "λ must not restart at 1000 after resume");

        assertArrayEquals(params(full.resolve("model.zip")), params(killed.resolve("model.zip")),
                "resumed parameters must equal the uninterrupted run's");
        var m = ModelIO.load(killed.resolve("model.zip"), false).metadata();
        assertEquals("48", m.get("spherekit.training.iterations"));
    }

    static String log(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return "(no log " + p + ")";
        }
    }
}
