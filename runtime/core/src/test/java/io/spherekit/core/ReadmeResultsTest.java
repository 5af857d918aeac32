package io.spherekit.core;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every README.md block {@code <!-- results:begin PATH --> ... <!-- results:end -->} equals the committed report file
 * PATH (relative to the repository root), so a README result table cannot drift from the report it is generated from
 * ({@code scripts/readme-results.py} rewrites the blocks).
 */
class ReadmeResultsTest {
    private static final Pattern BEGIN = Pattern.compile("^<!-- results:begin (\\S+) -->$", Pattern.MULTILINE);
    private static final String END = "<!-- results:end -->";

    @Test
    void everyResultsBlockEqualsItsReportFile() throws Exception {
        Path root = Path.of(System.getProperty("spherekit.root", "../..")).toAbsolutePath().normalize();
        Path readme = root.resolve("README.md");
        String text = Files.readString(readme).replace("\r\n", "\n");
        Matcher m = BEGIN.matcher(text);
        List<String> checked = new ArrayList<>();
        while (m.find()) {
            int end = text.indexOf("\n" + END, m.end());
            assertTrue(end >= 0, readme + ": " + m.group() + " has no " + END);
            String block = text.substring(m.end(), end).strip();
            Path src = root.resolve(m.group(1));
            assertTrue(Files.isRegularFile(src), readme + ": " + m.group(1) + " does not exist");
            assertEquals(Files.readString(src).replace("\r\n", "\n").strip(), block,
                    readme + ": the block from " + m.group(1) + " is stale; run python3 scripts/readme-results.py");
            checked.add(m.group(1));
        }
        assertFalse(checked.isEmpty(), readme + " has no results block: the margin-head table must come from its report");
        assertTrue(checked.stream().anyMatch(p -> p.endsWith("heads-summary.md")), "checked: " + checked);
    }
}
