package io.spherekit.exporter;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** README.md's supported-layer tables are the generated ones, and every mapper of the registry is in them. */
class SupportedLayersReadmeTest {

    @Test
    void readmeTableEqualsTheGeneratedOne() throws Exception {
        Path root = Path.of(System.getProperty("spherekit.root", "../..")).toAbsolutePath().normalize();
        Path readme = root.resolve("README.md");
        String text = Files.readString(readme).replace("\r\n", "\n");
        int b = text.indexOf(SupportedLayers.BEGIN);
        int e = text.indexOf(SupportedLayers.END);
        assertTrue(b >= 0 && e > b, readme + " has no " + SupportedLayers.BEGIN + " ... " + SupportedLayers.END + " section");
        String inReadme = text.substring(b + SupportedLayers.BEGIN.length(), e).strip();
        assertEquals(SupportedLayers.markdown(), inReadme, "README's supported-layer table is stale: regenerate it with "
                + "io.spherekit.exporter.SupportedLayers (main) and paste the output between the markers");
    }

    @Test
    void tableListsEveryMapperAndActivation() {
        String md = SupportedLayers.markdown();
        long rows = md.lines().filter(l -> l.startsWith("| `")).count();
        assertEquals(Mappers.ALL.size() + Activations.SUPPORTED.size(), rows, md);
        assertTrue(md.contains("| `ConvolutionLayer` | Conv (+ activation) |"), md);
        assertTrue(md.contains("| `ActivationMish` | x·Tanh(Softplus(x)) |"), md);
    }
}
