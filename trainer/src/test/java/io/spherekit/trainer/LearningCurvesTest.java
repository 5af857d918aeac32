package io.spherekit.trainer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** {@link LearningCurves}: reads the records of train-log.jsonl and writes a PNG. */
class LearningCurvesTest {

    @Test
    void readsIterationsAndHeldOutEpochsAndPlots(@TempDir Path dir) throws Exception {
        Path log = Files.writeString(dir.resolve("train-log.jsonl"), String.join("\n",
                "{\"type\":\"iteration\",\"iteration\":10,\"epoch\":1,\"loss\":7.5,\"lambda\":480.0}",
                "{\"type\":\"iteration\",\"iteration\":20,\"epoch\":1,\"loss\":7.25}",
                "{\"type\":\"epoch\",\"iteration\":20,\"epoch\":1,\"loss\":7.25,\"heldout_accuracy\":0.625}",
                "{\"type\":\"epoch\",\"iteration\":40,\"epoch\":2,\"loss\":7.0}", ""));
        LearningCurves.Curves c = LearningCurves.read("asoftmax", log);
        assertEquals(2, c.loss().getItemCount());
        assertEquals(7.25, c.loss().getY(1).doubleValue());
        assertEquals(20.0, c.loss().getX(1).doubleValue());
        assertEquals(1, c.heldout().getItemCount(), "only epochs that logged a held-out accuracy");
        assertEquals(0.625, c.heldout().getY(0).doubleValue());
        Path png = dir.resolve("out/curves.png");
        LearningCurves.plot(List.of(c), "test", png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(1000, img.getWidth());
        assertEquals(700, img.getHeight());
    }

    @Test
    void aBrokenLineIsNamed(@TempDir Path dir) throws Exception {
        Path log = Files.writeString(dir.resolve("train-log.jsonl"), "{\"type\":\"iteration\",\"iteration\":10,"
                + "\"loss\":7.5}\n{\"type\":\"iter\n");
        IOException e = assertThrows(IOException.class, () -> LearningCurves.read("x", log));
        assertTrue(e.getMessage().startsWith(log + ":2: not a JSON object"), e.getMessage());
    }
}
