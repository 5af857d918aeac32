package io.spherekit.onnx;

import org.junit.jupiter.api.Assumptions;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The reference ONNX checker for the exporters' tests (shared through this module's test-jar): {@code
 * onnx.checker.check_model(full_check=True)} and {@code onnx.shape_inference.infer_shapes(strict_mode=True)} on many
 * files in one Python process. The Python is system property {@code spherekit.python} (the build's venv, made by the
 * testdata module from the local pip mirror); without it the tests fail saying how to make it, or skip under {@code
 * -Dspherekit.skipPython=true}.
 */
public final class OnnxChecker {
    /** Checks every file named on the command line; prints "checked N" and the rejected files with their first line. */
    public static final String SCRIPT = "import onnx,sys\n"
            + "bad=[]\n"
            + "for f in sys.argv[1:]:\n"
            + "    try:\n"
            + "        m=onnx.load(f); onnx.checker.check_model(m, full_check=True)\n"
            + "        onnx.shape_inference.infer_shapes(m, strict_mode=True)\n"
            + "    except Exception as e:\n"
            + "        bad.append(f+': '+str(e).splitlines()[0])\n"
            + "print('checked', len(sys.argv)-1)\n"
            + "print('\\n'.join(bad)); sys.exit(1 if bad else 0)\n";

    private OnnxChecker() {
    }

    /** The repository root: {@code spherekit.root}, else two levels above the module. */
    public static Path root() {
        String r = System.getProperty("spherekit.root");
        Path p = r != null && !r.isBlank() ? Path.of(r) : Path.of("").toAbsolutePath().getParent().getParent();
        return p.toAbsolutePath().normalize();
    }

    /** The Python with the {@code onnx} package (fails, or skips under {@code spherekit.skipPython}, without it). */
    public static Path python() {
        String p = System.getProperty("spherekit.python");
        Path python = p == null || p.isBlank() ? null : Path.of(p);
        if (python == null || !Files.isExecutable(python)) {
            Assumptions.assumeFalse(Boolean.getBoolean("spherekit.skipPython"),
                    "spherekit.skipPython=true and no Python at " + python);
            Path venv = python == null ? root().resolve("testdata/target/venv") : python.getParent().getParent();
            fail("No Python with the onnx package at spherekit.python=" + python + ". The build creates it (module "
                    + "testdata); to create it by hand, run:\n  bash " + root().resolve("testdata/python/setup_venv.sh")
                    + " " + venv + "\nor pass -Dspherekit.python=/path/to/python, or -Dspherekit.skipPython=true to skip.");
        }
        return python;
    }

    /**
     * Runs {@link #SCRIPT} on {@code files} and asserts that every one passed.
     *
     * @return what the checker printed
     */
    public static String assertAllPass(Path python, List<String> files) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(python.toString(), "-c", SCRIPT));
        cmd.addAll(files);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output;
        try (var in = p.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(p.waitFor(600, TimeUnit.SECONDS), "onnx checker timed out");
        assertEquals(0, p.exitValue(), "onnx.checker rejected:\n" + output);
        assertTrue(output.contains("checked " + files.size()), output);
        return output;
    }
}
