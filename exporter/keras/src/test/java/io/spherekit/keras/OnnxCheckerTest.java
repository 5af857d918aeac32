package io.spherekit.keras;

import io.spherekit.onnx.OnnxChecker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;


/**
 * Every converted reference model (face architectures and layer models, .keras and .h5, opsets 13 and 21, with the
 * l2norm output at 17) passes {@code onnx.checker.check_model(full_check=True)} and strict shape inference
 * ({@link OnnxChecker}, shared with the DL4J exporter's tests).
 */
class OnnxCheckerTest {
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
        OnnxChecker.assertAllPass(python, files);
    }
}
