package io.spherekit.core.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/spherekit} dispatches every command of {@link Commands} to that command's module and main class, and
 * what it does not know to the root, {@link SphereKit} (the script text is parsed; nothing is run).
 */
class LauncherTest {

    /** One branch of the script's {@code case "$cmd" in}: names, whether it shifts the name off, module, class. */
    record Branch(String pattern, boolean shift, String module, String mainClass) {
    }

    private static final Path ROOT = Path.of(System.getProperty("spherekit.root"));
    private static final Pattern BRANCH = Pattern.compile(
            "^\\s*([a-z|*-]+)\\)\\s*(shift;\\s*)?run\\s+(\\S+)\\s+(\\S+)\\s+\"\\$@\"\\s*;;\\s*$");

    static Map<String, Branch> branches() throws IOException {
        String script = Files.readString(ROOT.resolve("bin/spherekit"));
        int start = script.indexOf("case \"$cmd\" in");
        int end = script.indexOf("esac", start);
        assertTrue(start >= 0 && end > start, "bin/spherekit has a case \"$cmd\" in ... esac");
        Map<String, Branch> byName = new HashMap<>();
        for (String line : script.substring(start, end).lines().skip(1).toList()) {
            if (line.isBlank()) {
                continue;
            }
            Matcher m = BRANCH.matcher(line);
            assertTrue(m.matches(), "unexpected line in bin/spherekit's case: " + line);
            Branch b = new Branch(m.group(1), m.group(2) != null, m.group(3), m.group(4));
            for (String name : m.group(1).split("\\|")) {
                assertEquals(null, byName.put(name, b), name + " dispatched twice");
            }
        }
        return byName;
    }

    @Test
    void everyCommandGoesToItsModuleAndMainClass() throws IOException {
        Map<String, Branch> branches = branches();
        for (Commands c : Commands.values()) {
            Branch b = branches.get(c.command());
            assertNotNull(b, "bin/spherekit does not dispatch " + c.command());
            assertEquals(c.module(), b.module(), c.command());
            assertEquals(c.mainClass(), b.mainClass(), c.command());
            assertEquals(!c.passesName(), b.shift(), c.command() + ": the name is passed on iff the main class "
                    + "dispatches subcommands");
            Path source = ROOT.resolve(c.module()).resolve("src/main/java")
                    .resolve(c.mainClass().replace('.', '/') + ".java");
            assertTrue(Files.isRegularFile(source), c.command() + ": " + source + " does not exist");
        }
        assertEquals(Commands.values().length + 1, branches.size(), "one branch per command, plus the root: "
                + branches.keySet());
        Branch root = branches.get("*");
        assertNotNull(root, "unknown names and --help go to the root");
        assertEquals(new Branch("*", false, "runtime/core", SphereKit.class.getName()), root);
    }

    @Test
    void everyModuleTheCommandsNeedIsBuiltByTheLauncher() throws IOException {
        String script = Files.readString(ROOT.resolve("bin/spherekit"));
        Matcher m = Pattern.compile("(?m)^modules=\\(([^)]*)\\)").matcher(script);
        assertTrue(m.find(), "bin/spherekit lists the modules it builds");
        List<String> built = List.of(m.group(1).trim().split("\\s+"));
        for (Commands c : Commands.values()) {
            assertTrue(built.contains(c.module()), c.module() + " is not in " + built);
        }
    }

    @Test
    void launcherKeepsExecSoSignalsReachTheJvm() throws IOException {
        String script = Files.readString(ROOT.resolve("bin/spherekit"));
        assertTrue(Pattern.compile("(?m)^\\s*exec java ").matcher(script).find(), "run() must exec the JVM");
        assertTrue(script.contains("-Dspherekit.home=$repo"), "the launcher passes the repository root");
    }
}
