package io.spherekit.keras;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Unsupported layers and bad files fail before anything is written, naming the file, layer, class and the list. */
class UnsupportedLayerTest {

    private static Path keras(Path dir, String config) throws Exception {
        Path f = dir.resolve("m.keras");
        try (OutputStream o = Files.newOutputStream(f); ZipOutputStream z = new ZipOutputStream(o)) {
            z.putNextEntry(new ZipEntry("config.json"));
            z.write(config.getBytes(StandardCharsets.UTF_8));
            z.closeEntry();
        }
        return f;
    }

    private static final String SEQ = "{\"class_name\":\"Sequential\",\"config\":{\"name\":\"s\",\"layers\":["
            + "{\"class_name\":\"InputLayer\",\"config\":{\"name\":\"in\",\"batch_shape\":[null,5,5,3]}},"
            + "{\"class_name\":\"%s\",\"config\":{\"name\":\"my_layer\"}}]}}";

    @Test
    void lambdaFailsNamingLayerClassAndSupportedList(@TempDir Path dir) throws Exception {
        Path f = keras(dir, String.format(SEQ, "Lambda"));
        Path out = dir.resolve("out.onnx");
        KerasException e = assertThrows(KerasException.class,
                () -> KerasToOnnx.convert(f, Map.of(), KerasToOnnx.Options.defaults()));
        String m = e.getMessage();
        assertTrue(m.contains(f.toString()) && m.contains("'my_layer' (Lambda)") && m.contains("not supported")
                && m.contains("Conv2D") && m.contains("UnitNormalization"), m);
        assertTrue(!Files.exists(out));
    }

    @Test
    void missingWeightNamesTheLayer(@TempDir Path dir) throws Exception {
        Path f = keras(dir, String.format(SEQ, "Dense"));
        KerasException e = assertThrows(KerasException.class,
                () -> KerasToOnnx.convert(f, Map.of(), KerasToOnnx.Options.defaults()));
        assertTrue(e.getMessage().contains("'my_layer' (Dense)"), e.getMessage());
    }

    @Test
    void notAKerasFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("x.keras");
        Files.writeString(f, "hello");
        KerasException e = assertThrows(KerasException.class, () -> KerasFile.read(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("neither"), e.getMessage());
        KerasException missing = assertThrows(KerasException.class, () -> KerasFile.read(dir.resolve("none.keras")));
        assertTrue(missing.getMessage().contains("not found"), missing.getMessage());
    }
}
