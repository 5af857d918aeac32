package io.spherekit.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety of reports written through {@link AtomicFiles} (JSON reports, CSV such as roc.csv): a child JVM
 * ({@link ReportCrashWriter}) rewrites a 0.5 MB JSON report and a CSV in a loop and is killed with SIGKILL at
 * random points, five times. After each kill both files parse completely (Jackson; every CSV line) and each is one
 * whole generation; a temporary file the killed writer left is deleted by the next write of that file.
 */
class ReportCrashTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;


    @Test
    void killedWhileWritingLeavesWholeReports() throws Exception {
        Path report = dir.resolve("report.json");
        Path csv = dir.resolve("roc.csv");
        AtomicFiles.writeString(report, ReportCrashWriter.json(0));
        AtomicFiles.writeString(csv, ReportCrashWriter.csv(0));
        Random delays = new Random(9);
        int next = 1;
        for (int kill = 0; kill < 5; kill++) {
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                    System.getProperty("java.class.path"), ReportCrashWriter.class.getName(), report.toString(),
                    csv.toString(), Integer.toString(next)).redirectErrorStream(true).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            int writes = 1 + kill % 3;
            for (int w = 0; w < writes; w++) {
                String line = out.readLine();
                assertTrue(line != null && line.startsWith("writing "), "child said: " + line);
            }
            Thread.sleep(delays.nextInt(40)); // a random point inside (or just after) the current writes
            p.toHandle().destroyForcibly(); // SIGKILL; unlike Process.destroyForcibly it keeps the output open to read to its end
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            next = CrashTests.nextAfterKill(out, next + writes);

            JsonNode j = JSON.readTree(report.toFile());
            int gen = j.path("generation").asInt(-1);
            assertTrue(gen >= 0 && gen < next, "generation " + gen);
            assertEquals(ReportCrashWriter.ROWS, j.path("values").size());
            for (JsonNode v : j.path("values")) {
                assertEquals(gen, v.asInt());
            }
            List<String> lines = Files.readAllLines(csv);
            assertEquals(ReportCrashWriter.ROWS + 1, lines.size());
            int csvGen = Integer.parseInt(lines.get(1).split(",")[0]);
            assertTrue(csvGen == gen || csvGen == gen - 1, "csv generation " + csvGen + " next to report " + gen);
            for (int i = 0; i < ReportCrashWriter.ROWS; i++) {
                assertEquals(csvGen + "," + i, lines.get(i + 1));
            }
            System.out.printf("kill %d: report generation %d, csv generation %d, %d temporary file(s) left%n", kill,
                    gen, csvGen, CrashTests.temps(dir).size());
            AtomicFiles.writeString(report, ReportCrashWriter.json(gen)); // the next writes clean up
            AtomicFiles.writeString(csv, ReportCrashWriter.csv(gen));
            assertEquals(List.of(), CrashTests.temps(dir));
        }
    }
}
