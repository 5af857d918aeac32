package io.spherekit.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety of the run directory's {@link TrainingLog} files. {@code loss.png} is rewritten atomically;
 * {@code train-log.jsonl} is an append-only log whose guarantee is weaker and stated in {@link TrainingLog}: a crash
 * can cut its last line, and the next (resumed) run drops that cut line before appending. A child JVM
 * ({@link TrainingLogCrashWriter}) appends records and rewrites the plot in a loop and is killed with SIGKILL at
 * random points, four times, each next child resuming where the log ends. After each kill {@code loss.png}
 * decodes (ImageIO) at its 900×600 size, every line of the log but a cut last one is whole JSON, the iteration
 * records run 1, 2, 3, ... without a gap or a repeat across all the resumes, and the next plot deletes the
 * temporary file the killed writer left.
 */
class TrainingLogCrashTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** The log's records: every whole line (parsed), checked to continue the iterations 1, 2, 3, .... */
    static List<JsonNode> records(Path log) throws Exception {
        String text = Files.readString(log, StandardCharsets.UTF_8);
        List<String> lines = Arrays.asList(text.split("\n", -1));
        // the last element is "" after a final newline, else the cut last line (the one thing a crash may leave)
        List<JsonNode> out = lines.subList(0, lines.size() - 1).stream().map(l -> {
            try {
                return JSON.readTree(l);
            } catch (Exception e) {
                throw new AssertionError("not a whole JSON line in " + log + ": " + l, e);
            }
        }).toList();
        int iteration = 0;
        for (JsonNode r : out) {
            if (r.path("type").asText().equals("iteration")) {
                assertEquals(++iteration, r.path("iteration").asInt(), "iteration records run on without gaps");
            } else {
                assertEquals("epoch", r.path("type").asText());
                assertEquals(iteration, r.path("iteration").asInt(), "an epoch record follows its iteration");
                assertEquals(0, iteration % TrainingLogCrashWriter.EPOCH);
            }
        }
        return out;
    }

    static int lastIteration(List<JsonNode> records) {
        return records.isEmpty() ? 0 : records.get(records.size() - 1).path("iteration").asInt();
    }

    @Test
    void killedWhileLoggingLeavesAWholePlotAndWholeLines() throws Exception {
        Path log = dir.resolve("train-log.jsonl");
        Path png = dir.resolve("loss.png");
        try (TrainingLog first = new TrainingLog(dir, false)) {
            first.iteration(1, 0, 1.0, 1000, 0.01, 100);
            first.plot();
        }
        Random delays = new Random(5);
        for (int kill = 0; kill < 4; kill++) {
            int from = lastIteration(records(log)) + 1;
            CrashChild child = CrashChild.start(TrainingLogCrashWriter.class, dir.toString(), Integer.toString(from));
            child.awaitWrites(1 + kill % 2);
            child.kill(delays.nextInt(60)); // a random point inside (or just after) an epoch's plot or lines

            BufferedImage img = ImageIO.read(png.toFile());
            assertNotNull(img, png + " decodes");
            assertEquals(900, img.getWidth());
            assertEquals(600, img.getHeight());
            List<JsonNode> records = records(log);
            boolean cut = !Files.readString(log).endsWith("\n");
            System.out.printf("kill %d: %d whole records up to iteration %d, cut last line: %s, %d temporary file(s)"
                    + " left%n", kill, records.size(), lastIteration(records), cut, CrashChild.temps(dir).size());
            try (TrainingLog next = new TrainingLog(dir, true)) {
                next.plot(); // the next write of loss.png cleans what the killed one left
            }
            assertEquals(List.of(), CrashChild.temps(dir));
            assertTrue(Files.readString(log).endsWith("\n"), "a resumed log has dropped a cut last line");
        }
        assertTrue(lastIteration(records(log)) > TrainingLogCrashWriter.EPOCH * 4, "the children logged epochs");
    }

    /** A line cut by a crash (no newline at its end) is dropped by the next run, not glued to its first record. */
    @Test
    void resumeDropsACutLastLine() throws Exception {
        Path log = dir.resolve("train-log.jsonl");
        try (TrainingLog first = new TrainingLog(dir, false)) {
            for (int it = 1; it <= TrainingLogCrashWriter.EPOCH; it++) {
                first.iteration(it, 0, 1.0 / it, 1000, 0.01, 100);
            }
            first.epoch(TrainingLogCrashWriter.EPOCH, 1, Map.of("heldout_accuracy", 0.75));
            first.iteration(TrainingLogCrashWriter.EPOCH + 1, 1, 0.1, 500, 0.01, 100);
        }
        byte[] whole = Files.readAllBytes(log);
        String text = new String(whole, StandardCharsets.UTF_8);
        int lastStart = text.lastIndexOf('\n', text.length() - 2) + 1;
        // as a kill in the middle of writing the last iteration's line would leave it
        Files.write(log, Arrays.copyOf(whole, lastStart + (text.length() - lastStart) / 2));
        try (TrainingLog resumed = new TrainingLog(dir, true)) {
            resumed.iteration(TrainingLogCrashWriter.EPOCH + 1, 1, 0.1, 500, 0.01, 100);
        }
        assertEquals(TrainingLogCrashWriter.EPOCH + 2, records(log).size());
        assertEquals(text, Files.readString(log), "the cut line is gone and the resumed run's record follows");
    }
}
