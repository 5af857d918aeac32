package io.spherekit.exporter;

import ai.onnx.proto.OnnxMl;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.cli.Cli;
import io.spherekit.core.cli.CliConventions;
import io.spherekit.trainer.ModelIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExportCliTest {
    @TempDir
    static Path shared;
    private static Path trained;

    /** Exit code and what the CLI printed. */
    record Run(int code, String out, String err) {
    }

    @BeforeAll
    static void model() throws Exception {
        Map<String, String> meta = new HashMap<>(Preprocessing.LFW_SPHEREFACE.toMetadata());
        meta.put("spherekit.head", "asoftmax");
        trained = shared.resolve("sf4.zip");
        ModelIO.save(TestNets.sphereFace(4, 5), meta, trained, false);
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = ExportCli.run(o, e, args);
        }
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static List<Path> list(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void exportsWithCheckAndPrintsSummary(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("face.onnx");
        Run r = run("--model", trained.toString(), "--output", out.toString(), "--check", "--l2norm");
        System.out.print(r.out());
        assertEquals(Cli.OK, r.code(), r.err());
        assertTrue(r.out().contains("opset 17, IR version 8, producer spherekit"), r.out());
        assertTrue(r.out().contains("inputs:  input float[batch,3,112,96]"), r.out());
        assertTrue(r.out().contains("outputs: embedding float[batch,128], embedding_norm float[batch,128]"), r.out());
        // default --prelu depthwise: each PReLU is Relu + 2 depthwise 1x1 Convs + Add
        assertTrue(r.out().contains("Add 4, Conv 12, Flatten 1, Gemm 1, LpNormalization 1, Relu 4 (23 nodes)"), r.out());
        assertTrue(r.out().contains("parameters: "), r.out());
        assertTrue(r.out().contains(String.format("file size: %,d bytes", Files.size(out))), r.out());
        // the check's own verdict line: max abs diff on a random batch, within its tolerance
        assertTrue(r.out().lines().anyMatch(l -> l.strip().startsWith("check: ONNX Runtime vs DL4J max abs diff")
                && l.strip().endsWith(": OK")), r.out());
        assertEquals(List.of(out), list(dir), "no temp file left behind");
        OnnxMl.ModelProto m = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(out));
        assertEquals(2, m.getGraph().getOutputCount());
        assertTrue(m.getMetadataPropsList().stream().anyMatch(e -> e.getKey().equals("spherekit.head")
                && e.getValue().equals("asoftmax")));
    }

    @Test
    void flipIsRecordedAndAThresholdOfAnotherFlipModeIsLeftOut(@TempDir Path dir) throws Exception {
        Map<String, String> meta = new HashMap<>(Preprocessing.LFW_SPHEREFACE.toMetadata());
        meta.put("spherekit.head", "asoftmax");
        meta.put("spherekit.threshold", "0.25");
        meta.put("spherekit.threshold.source", "held-out DevTrain identities, 10-fold mean threshold");
        Path zip = dir.resolve("t.zip");
        ModelIO.save(TestNets.sphereFace(4, 5), meta, zip, false);

        Path sum = dir.resolve("sum.onnx");
        Run r = run("--model", zip.toString(), "--output", sum.toString(), "--flip", "sum");
        assertEquals(Cli.OK, r.code(), r.err());
        assertTrue(r.out().contains("flip sum: the model's threshold 0.25 was calibrated with flip none, so it is"
                + " left out; calibrate one with evaluate --flip sum --write-threshold"), r.out());
        Map<String, String> md = new HashMap<>();
        OnnxMl.ModelProto.parseFrom(Files.readAllBytes(sum)).getMetadataPropsList()
                .forEach(e -> md.put(e.getKey(), e.getValue()));
        assertEquals("sum", md.get("spherekit.input.flip"));
        assertFalse(md.containsKey("spherekit.threshold"), md.toString());
        assertFalse(md.containsKey("spherekit.threshold.source"), md.toString());

        Path none = dir.resolve("none.onnx");
        Run n = run("--model", zip.toString(), "--output", none.toString(), "--flip", "none");
        assertEquals(Cli.OK, n.code(), n.err());
        Map<String, String> mdNone = new HashMap<>();
        OnnxMl.ModelProto.parseFrom(Files.readAllBytes(none)).getMetadataPropsList()
                .forEach(e -> mdNone.put(e.getKey(), e.getValue()));
        assertEquals("0.25", mdNone.get("spherekit.threshold"), "same flip mode: the threshold stays");
        assertFalse(mdNone.containsKey("spherekit.input.flip"));

        Run bad = run("--model", zip.toString(), "--output", dir.resolve("b.onnx").toString(), "--flip", "both");
        assertEquals(Cli.USAGE, bad.code());
        assertTrue(bad.err().contains("--flip: test-time flip must be none, sum or concat, got 'both'"), bad.err());
    }

    @Test
    void opsetFp16AndFixedBatchOptions(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("face16.onnx");
        Run r = run("--model", trained.toString(), "--output", out.toString(), "--opset", "13", "--fp16-weights",
                "--batch", "2", "--prelu", "PReLU", "--check");
        assertEquals(Cli.OK, r.code(), r.err());
        assertTrue(r.out().contains("Cast 14, Conv 4, Flatten 1, Gemm 1, PRelu 4 (24 nodes)"), r.out());
        assertTrue(r.out().contains("tolerance 0.002"), "fp16 weights get the fp16 check tolerance: " + r.out());
        assertTrue(r.out().contains("opset 13"), r.out());
        assertTrue(r.out().contains("input float[2,3,112,96]"), r.out());
        assertTrue(r.out().contains("(float16)"), r.out());
        assertEquals(13, OnnxMl.ModelProto.parseFrom(Files.readAllBytes(out)).getOpsetImport(0).getVersion());
    }

    @Test
    void unknownPreluFormIsAUsageError(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("x.onnx");
        Run r = run("--model", trained.toString(), "--output", out.toString(), "--prelu", "leaky");
        assertEquals(Cli.USAGE, r.code());
        assertTrue(r.err().contains("expected depthwise or prelu, got 'leaky'"), r.err());
        assertEquals(List.of(), list(dir));
    }

    @Test
    void missingModelFails(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("x.onnx");
        Run r = run("--model", dir.resolve("nope.zip").toString(), "--output", out.toString());
        assertEquals(Cli.FAILURE, r.code());
        assertTrue(r.err().contains("error: model file not found: " + dir.resolve("nope.zip")), r.err());
        assertEquals(List.of(), list(dir));
    }

    @Test
    void emptyModelFails(@TempDir Path dir) throws Exception {
        Path empty = Files.createFile(dir.resolve("empty.zip"));
        Path out = dir.resolve("x.onnx");
        Run r = run("--model", empty.toString(), "--output", out.toString());
        assertEquals(Cli.FAILURE, r.code());
        assertTrue(r.err().contains("model file is empty: " + empty), r.err());
        assertEquals(List.of(empty), list(dir));
    }

    @Test
    void nonZipModelFailsAndKeepsExistingOutput(@TempDir Path dir) throws Exception {
        Path text = Files.writeString(dir.resolve("model.zip"), "this is not a zip file\n");
        Path out = Files.writeString(dir.resolve("x.onnx"), "previous export");
        Run r = run("--model", text.toString(), "--output", out.toString(), "--check");
        assertEquals(Cli.FAILURE, r.code());
        assertTrue(r.err().contains("(not a zip archive): " + text), r.err());
        assertEquals("previous export", Files.readString(out));
        assertEquals(List.of(text, out), list(dir));
    }

    @Test
    void failedCheckWritesNothing(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("x.onnx");
        System.setProperty("spherekit.checkTolerance", "-1");
        try {
            Run r = run("--model", trained.toString(), "--output", out.toString(), "--check");
            assertEquals(Cli.FAILURE, r.code());
            assertTrue(r.err().contains("FAILED; nothing written"), r.err());
        } finally {
            System.clearProperty("spherekit.checkTolerance");
        }
        assertEquals(List.of(), list(dir));
    }

    /**
     * A head that makes large embeddings (fc5 scaled by 2000, as ArcFace with s = 64 grows |e| to ~500) is checked
     * against tolerance × max |embedding|, not the absolute tolerance: the printed bound is 1e-4 × the printed
     * max |embedding|, and the export passes with a diff above 1e-4 that is below that bound.
     */
    @Test
    void checkToleranceScalesWithTheEmbedding(@TempDir Path dir) throws Exception {
        var g = TestNets.sphereFace(4, 5);
        g.getLayer("fc5").getParam("W").muli(2000);
        g.getLayer("fc5").getParam("b").muli(2000);
        Map<String, String> meta = new HashMap<>(Preprocessing.LFW_SPHEREFACE.toMetadata());
        Path zip = dir.resolve("large.zip");
        ModelIO.save(g, meta, zip, false);
        Path out = dir.resolve("large.onnx");
        Run r = run("--model", zip.toString(), "--output", out.toString(), "--check");
        assertEquals(Cli.OK, r.code(), r.out() + r.err());
        var m = java.util.regex.Pattern.compile("max abs diff (\\S+) on a random batch of \\d+ \\(max \\|embedding\\| (\\S+), "
                + "tolerance 0\\.0001 x max\\(1, max \\|embedding\\|\\) = (\\S+)\\): OK").matcher(r.out());
        assertTrue(m.find(), r.out());
        double diff = Double.parseDouble(m.group(1));
        double maxAbs = Double.parseDouble(m.group(2));
        double allowed = Double.parseDouble(m.group(3));
        assertTrue(maxAbs > 100, "the scaled fc5 makes embeddings far above unit scale: " + maxAbs);
        assertEquals(1e-4 * maxAbs, allowed, 1e-4 * maxAbs * 2e-3, "bound = 1e-4 x max |embedding| (3 digits printed)");
        assertTrue(diff <= allowed, r.out());
        assertTrue(Files.size(out) > 0);
    }

    /** The bound itself, on hand-worked values: the 2026-12-02 ArcFace case, a unit-scale case, and NaN. */
    @Test
    void checkBoundOnWorkedValues() {
        // arcface seed 43: diff 1.83e-4 at |e| = 499 -> bound 0.0499: passes (it failed the old absolute 1e-4)
        assertTrue(new OrtCheck.Result(8, 1.83e-4, 499).passes(1e-4));
        assertEquals(0.0499, OrtCheck.allowed(1e-4, 499), 1e-12);
        // unit-scale embeddings keep the absolute floor: 2e-4 at |e| = 0.5 fails 1e-4
        assertEquals(1e-4, OrtCheck.allowed(1e-4, 0.5), 0);
        assertFalse(new OrtCheck.Result(8, 2e-4, 0.5).passes(1e-4));
        assertTrue(new OrtCheck.Result(8, 9e-5, 0.5).passes(1e-4));
        // NaN anywhere fails
        assertFalse(new OrtCheck.Result(8, Double.NaN, 0.5).passes(1e-4));
        assertFalse(new OrtCheck.Result(8, 1e-6, Double.NaN).passes(1e-4));
    }

    @Test
    void nanWeightsFailWithTheParameterName(@TempDir Path dir) throws Exception {
        var g = TestNets.sphereFace(4, 6);
        g.getLayer("relu3_1").getParam("alpha").putScalar(new long[]{0, 2, 0, 0}, Float.NaN);
        Path zip = dir.resolve("nan.zip");
        ModelIO.save(g, Map.of(), zip, false);
        Path out = dir.resolve("x.onnx");
        Run r = run("--model", zip.toString(), "--output", out.toString());
        assertEquals(Cli.FAILURE, r.code());
        assertTrue(r.err().contains("relu3_1/alpha") && r.err().contains("NaN"), r.err());
        assertFalse(Files.exists(out));
        assertEquals(List.of(zip), list(dir));
    }

    @Test
    void missingOutputDirectoryFails(@TempDir Path dir) {
        Run r = run("--model", trained.toString(), "--output", dir.resolve("a/b/x.onnx").toString());
        assertEquals(Cli.FAILURE, r.code());
        assertTrue(r.err().contains("output directory does not exist"), r.err());
    }

    /** The shared conventions: --version, a usage error, a failure (printed as one 'error:' line). */
    @Test
    void versionUsageErrorAndFailureFollowTheSharedConventions(@TempDir Path dir) throws Exception {
        CliConventions.Entry export = (args, o, e) -> ExportCli.run(o, e, args);
        CliConventions.assertVersion(export);
        String out = dir.resolve("x.onnx").toString();
        CliConventions.assertUsageError(export, "export-model", "Unknown option: '--bogus'",
                "--model", trained.toString(), "--output", out, "--bogus");
        CliConventions.assertUsageError(export, "export-model", "--batch must be >= 1, got 0",
                "--model", trained.toString(), "--output", out, "--batch", "0");
        Path missing = dir.resolve("nope.zip");
        CliConventions.assertFailure(export, "model file not found", "--model", missing.toString(), "--output", out);
        CliConventions.assertFailure(export, "Keras model not found: " + dir.resolve("nope.keras"),
                "--from-keras", dir.resolve("nope.keras").toString(), "--output", out);
        assertEquals(List.of(), list(dir));
    }

    @Test
    void usageErrorsExitWithTwo(@TempDir Path dir) throws Exception {
        String out = dir.resolve("x.onnx").toString();
        Run none = run();
        assertEquals(Cli.USAGE, none.code());
        assertTrue(none.err().contains("Missing required option"), none.err());
        assertTrue(none.err().contains("export-model"), none.err());
        assertEquals(Cli.USAGE, run("--model", trained.toString()).code());
        Run opset = run("--model", trained.toString(), "--output", out, "--opset", "99");
        assertEquals(Cli.USAGE, opset.code());
        assertTrue(opset.err().contains("--opset must be between 13 and 21"), opset.err());
        assertEquals(Cli.USAGE, run("--model", trained.toString(), "--output", out, "--opset", "x").code());
        assertEquals(Cli.USAGE, run("--model", trained.toString(), "--output", out, "--frobnicate").code());
        assertEquals(Cli.USAGE, run("--model", trained.toString(), "--output", out, "--batch", "0").code());
        assertEquals(List.of(), list(dir));
        Run help = run("--help");
        assertEquals(Cli.OK, help.code());
        assertTrue(help.out().contains("--l2norm") && help.out().contains("Exit codes"), help.out());
    }
}
