package io.spherekit.keras;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every converted reference model (face architectures and layer models, .keras and .h5, opsets 13 and 21, with the
 * l2norm output at 17) passes {@code onnx.checker.check_model(full_check=True)} and strict shape inference.
 */
class OnnxCheckerTest {
    private static final String SCRIPT = "import onnx,sys\n"
            + "bad=[]\n"
            + "for f in sys.argv[1:]:\n"
            + "    try:\n"
            + "        m=onnx.load(f); onnx.checker.check_model(m, full_check=True)\n"
            + "        onnx.shape_inference.infer_shapes(m, strict_mode=True)\n"
            + "    except Exception as e:\n"
            + "        bad.append(f+': '+str(e).splitlines()[0])\n"
            + "print('checked', len(sys.argv)-1)\n"
            + "print('\\n'.join(bad)); sys.exit(1 if bad else 0)\n";

    @Test
    void everyConvertedModelPassesTheChecker(@TempDir Path dir) throws Exception {
        Path python = KerasZoo.python();
        List<String> files = new ArrayList<>();
        List<String> names = new ArrayList<>(KerasZoo.names("face"));
        names.addAll(KerasZoo.names("layer"));
        names.addAll(KerasZoo.names("multi"));
        int i = 0;
        for (String name : names) {
            for (var f : KerasZoo.manifest().path("models").path(name).path("files")) {
                for (KerasToOnnx.Options o : List.of(KerasToOnnx.Options.defaults().withOpset(13),
                        KerasToOnnx.Options.defaults().withOpset(21),
                        KerasToOnnx.Options.defaults().withL2norm(true))) {
                    if (o.l2norm() && !KerasZoo.manifest().path("models").path(name).path("kind").asText().equals("face")) {
                        continue;
                    }
                    Path out = dir.resolve(name + "_" + i++ + ".onnx");
                    Files.write(out, KerasToOnnx.convert(KerasZoo.dir().resolve(f.asText()), Map.of(), o).model().toByteArray());
                    files.add(out.toString());
                }
            }
        }
        List<String> cmd = new ArrayList<>(List.of(python.toString(), "-c", SCRIPT));
        cmd.addAll(files);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output;
        try (var in = p.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "onnx checker timed out");
        assertEquals(0, p.exitValue(), "onnx.checker rejected:\n" + output);
        assertTrue(output.contains("checked " + files.size()), output);
    }
}
