package io.spherekit.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spherekit.core.Images;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.TestTimeFlip;
import io.spherekit.core.cli.Cli;
import io.spherekit.runtime.FaceDetector;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.Galleries;
import io.spherekit.runtime.Gallery;
import io.spherekit.runtime.ModelId;
import io.spherekit.runtime.TestModelsAccess;
import io.spherekit.runtime.Verifier;
import io.spherekit.runtime.cli.EvaluateCommand;
import io.spherekit.runtime.cli.GalleryCommand;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The three Spark jobs on {@code local[2]} with real LFW images and the sdk's tiny ONNX fixture model, each checked
 * against the local code path (FaceEmbedder / FaceDetector called directly, {@code evaluate}, {@code gallery build})
 * run in this JVM on the same files.
 */
class SparkJobsTest {

    static final Path LFW = Path.of(System.getProperty("spherekit.root", "."), "..", "shared", "data", "lfw")
            .normalize();
    static final Path DEEP = LFW.resolve("lfw-deepfunneled");
    static final int DIM = 8;

    @TempDir
    static Path tmp;
    static SparkSession spark;
    static Path model;
    static Path root;

    @BeforeAll
    static void start() throws IOException {
        assertTrue(Files.isDirectory(DEEP), "LFW not found at " + DEEP + " (see /work/shared/data/lfw/SOURCE.md)");
        spark = SparkSession.builder().master("local[2]").appName("spherekit-spark-test")
                .config("spark.ui.enabled", "false").config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.driver.host", "127.0.0.1").config("spark.sql.shuffle.partitions", "4")
                .getOrCreate();
        model = TestModelsAccess.standard(tmp.resolve("tiny.onnx"), 112, 96, DIM, Map.of());
        // ROOT/LABEL/image: 4 people x 2 LFW images, a folder with an undecodable file, one with a blank image,
        // and a non-image file that must not be listed
        root = tmp.resolve("people");
        List<String> people = peopleWithAtLeast(2, 4);
        for (String p : people) {
            Files.createDirectories(root.resolve(p));
            for (int k = 1; k <= 2; k++) {
                String f = String.format("%s_%04d.jpg", p, k);
                Files.copy(DEEP.resolve(p).resolve(f), root.resolve(p).resolve(f));
            }
        }
        Files.writeString(root.resolve(people.get(0)).resolve("notes.txt"), "not an image");
        Files.createDirectories(root.resolve("Zz_Broken"));
        Files.writeString(root.resolve("Zz_Broken/broken.jpg"), "this is not a JPEG");
        Files.createDirectories(root.resolve("Zz_Blank"));
        BufferedImage blank = new BufferedImage(120, 120, BufferedImage.TYPE_INT_RGB);
        ImageIO.write(blank, "png", root.resolve("Zz_Blank/blank.png").toFile());
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
        EmbedderHolder.closeAll();
    }

    /** The first {@code count} LFW people (name order) with at least {@code min} images. */
    static List<String> peopleWithAtLeast(int min, int count) throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(DEEP).sorted()) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.exists(p.resolve(String.format("%s_%04d.jpg", p.getFileName(), min)))) {
                    out.add(p.getFileName().toString());
                    if (out.size() == count) {
                        break;
                    }
                }
            }
        }
        return out;
    }

    record Run(int code, String out, String err) {
    }

    static Run run(Object command, String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code = Cli.run(command, args, new PrintStream(o, true, StandardCharsets.UTF_8),
                new PrintStream(e, true, StandardCharsets.UTF_8));
        return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    static Map<String, Row> byFile(String parquet) {
        Map<String, Row> m = new HashMap<>();
        for (Row r : spark.read().parquet(parquet).collectAsList()) {
            m.put(r.getString(r.fieldIndex("file")), r);
        }
        return m;
    }

    static float[] floats(Row r) {
        if (r.isNullAt(r.fieldIndex("embedding"))) {
            return null;
        }
        List<Float> l = r.getList(r.fieldIndex("embedding"));
        float[] v = new float[l.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = l.get(i);
        }
        return v;
    }

    @Test
    void embedFolderKeepsBadFilesAsRowsAndMatchesTheLocalEmbedder() throws Exception {
        String out = tmp.resolve("folder.parquet").toString();
        Run r = run(new EmbedJob(), "--master", "local[2]", "--model", model.toString(), "--lfw-preprocessing",
                "--input", root.toString(), "--output", out, "--batch", "3", "--partitions", "3");
        assertEquals(0, r.code(), r.err());
        Map<String, Row> rows = byFile(out);
        assertEquals(10, rows.size(), rows.keySet().toString()); // 8 faces + broken + blank; notes.txt not listed
        String id = ModelId.of(model, Map.of());
        try (FaceEmbedder local = FaceEmbedder.builder().setModelPath(model)
                .optPreprocessing(Preprocessing.LFW_SPHEREFACE).build()) {
            int faces = 0;
            for (Row row : rows.values()) {
                assertEquals(id, row.getString(row.fieldIndex("model_id")));
                String file = row.getString(row.fieldIndex("file"));
                assertTrue(file.startsWith(root.toString()), file);
                String status = row.getString(row.fieldIndex("status"));
                if (file.endsWith("broken.jpg")) {
                    assertEquals(ImageEmbedding.UNDECODABLE, status);
                    assertTrue(row.getString(row.fieldIndex("reason")).contains("broken.jpg"));
                    assertNull(floats(row));
                    continue;
                }
                if (file.endsWith("blank.png")) {
                    assertEquals("uniform_image", status);
                    assertNull(floats(row));
                    continue;
                }
                faces++;
                assertEquals(ImageEmbedding.OK, status);
                assertTrue(row.isNullAt(row.fieldIndex("reason")));
                assertTrue(row.isNullAt(row.fieldIndex("box")), "crop mode has no face box");
                BufferedImage img = Images.read(Path.of(file));
                float[] got = floats(row);
                // the single-image SDK path on this JVM: the same floats
                assertArrayEquals(local.embed(img, file), got, file);
                // and the fixture's closed form (channel means of the crop), derived without ONNX Runtime
                double[] expected = TestModelsAccess.expectedOf(Preprocessing.LFW_SPHEREFACE, img, DIM);
                for (int j = 0; j < DIM; j++) {
                    assertEquals(expected[j], got[j], 1e-4 * Math.max(1, Math.abs(expected[j])), file + "[" + j + "]");
                }
            }
            assertEquals(8, faces);
        }
        assertTrue(r.out().contains("undecodable: 1"), r.out());
        // an existing output is refused without --overwrite, and left as it was
        Run again = run(new EmbedJob(), "--master", "local[2]", "--model", model.toString(), "--lfw-preprocessing",
                "--input", root.toString(), "--output", out);
        assertEquals(Cli.FAILURE, again.code());
        assertTrue(again.err().contains("already exists"), again.err());
        assertEquals(10, byFile(out).size());
    }

    @Test
    void embedListInDetectModeRecordsBoxesAndMissingFiles() throws Exception {
        List<String> people = peopleWithAtLeast(3, 2);
        List<Path> files = List.of(DEEP.resolve(people.get(0)).resolve(people.get(0) + "_0001.jpg"),
                DEEP.resolve(people.get(0)).resolve(people.get(0) + "_0003.jpg"),
                DEEP.resolve(people.get(1)).resolve(people.get(1) + "_0002.jpg"));
        Path missing = tmp.resolve("nobody/missing.jpg");
        Path list = tmp.resolve("list.txt");
        StringBuilder sb = new StringBuilder("# files to embed\n");
        files.forEach(f -> sb.append(f).append('\n'));
        sb.append('\n').append(missing).append('\n');
        Files.writeString(list, sb);
        String out = tmp.resolve("list.parquet").toString();
        Run r = run(new EmbedJob(), "--master", "local[2]", "--model", model.toString(), "--lfw-preprocessing",
                "--align", "detect", "--list", list.toString(), "--output", out, "--batch", "2");
        assertEquals(0, r.code(), r.err());
        Map<String, Row> rows = byFile(out);
        assertEquals(4, rows.size());
        Row gone = rows.get(missing.toString());
        assertEquals(ImageEmbedding.UNREADABLE, gone.getString(gone.fieldIndex("status")));
        assertTrue(gone.getString(gone.fieldIndex("reason")).contains("does not exist"));
        try (FaceDetector det = FaceDetector.builder().build();
             FaceEmbedder local = FaceEmbedder.builder().setModelPath(model)
                     .optPreprocessing(Preprocessing.LFW_SPHEREFACE).optDetector(FaceDetector.builder().build())
                     .build()) {
            for (Path f : files) {
                Row row = rows.get(f.toString());
                assertNotNull(row, f.toString());
                assertEquals(ImageEmbedding.OK, row.getString(row.fieldIndex("status")));
                BufferedImage img = Images.read(f);
                FaceDetector.Face face = det.detectLargest(img, f.toString());
                Row box = row.getStruct(row.fieldIndex("box"));
                assertArrayEquals(new double[] {face.x(), face.y(), face.width(), face.height()},
                        new double[] {box.getDouble(0), box.getDouble(1), box.getDouble(2), box.getDouble(3)});
                assertTrue(face.width() > 50, "an LFW face is tens of pixels wide: " + face);
                assertArrayEquals(local.embed(img, f.toString()), floats(row), f.toString());
                assertEquals(Galleries.preprocessingOf(local), row.getString(row.fieldIndex("preprocessing")));
            }
            assertTrue(Galleries.preprocessingOf(local).endsWith("; align=detect; template=sphereface-112x96"),
                    Galleries.preprocessingOf(local));
        }
    }

    /** A pairs.txt-format list: 10 folds x (2 genuine + 2 impostor), people in name order. */
    static Path smallPairs() throws IOException {
        Path pairs = tmp.resolve("pairs-small.txt");
        if (Files.exists(pairs)) {
            return pairs;
        }
        List<String> people = peopleWithAtLeast(2, 40);
        StringBuilder sb = new StringBuilder("10\t2\n");
        for (int fold = 0; fold < 10; fold++) {
            for (int k = 0; k < 2; k++) {
                sb.append(people.get(4 * fold + 2 * k)).append("\t1\t2\n");
            }
            for (int k = 0; k < 2; k++) {
                sb.append(people.get(4 * fold + k)).append("\t2\t").append(people.get(4 * fold + k + 2))
                        .append("\t1\n");
            }
        }
        Files.writeString(pairs, sb);
        return pairs;
    }

    @Test
    void evaluateReportEqualsTheLocalEvaluateReport() throws Exception {
        Path pairs = smallPairs();
        Path localReport = tmp.resolve("local-eval.json");
        Path sparkReport = tmp.resolve("spark-eval.json");
        Run local = run(new EvaluateCommand(), "--model", model.toString(), "--lfw-preprocessing", "--pairs",
                pairs.toString(), "--root", DEEP.toString(), "--report", localReport.toString());
        assertEquals(0, local.code(), local.err());
        Run sp = run(new EvaluateJob(), "--master", "local[2]", "--model", model.toString(), "--lfw-preprocessing",
                "--pairs", pairs.toString(), "--root", DEEP.toString(), "--report", sparkReport.toString(),
                "--batch", "7", "--partitions", "5");
        assertEquals(0, sp.code(), sp.err());
        ObjectMapper m = new ObjectMapper();
        JsonNode a = m.readTree(localReport.toFile());
        JsonNode b = m.readTree(sparkReport.toFile());
        assertEquals(40, a.get("pairs").asInt());
        assertEquals(10, a.at("/metrics/fold_accuracies").size());
        // exact equality: per-fold accuracy and threshold, every metric, the ROC
        assertEquals(a.at("/metrics/fold_accuracies"), b.at("/metrics/fold_accuracies"));
        assertEquals(a.at("/metrics/fold_thresholds"), b.at("/metrics/fold_thresholds"));
        assertEquals(a.get("metrics"), b.get("metrics"));
        assertEquals(a.get("roc"), b.get("roc"));
        for (String k : new String[] {"model", "model_metadata", "preprocessing", "alignment", "embedding_dim",
            "model_embedding_dim", "flip", "pairs_file", "image_root", "pairs", "genuine_pairs", "impostor_pairs", "skipped_pairs", "missing_images",
            "images"}) {
            assertEquals(a.get(k), b.get(k), k);
        }
        assertEquals("spark", b.at("/engine/name").asText());
        assertEquals(5, b.at("/engine/partitions").asInt());
    }

    @Test
    void galleryFromParquetEqualsTheLocalGalleryBuild() throws Exception {
        String emb = tmp.resolve("gallery-emb.parquet").toString();
        Run e = run(new EmbedJob(), "--master", "local[2]", "--model", model.toString(), "--lfw-preprocessing",
                "--input", root.toString(), "--output", emb, "--partitions", "4");
        assertEquals(0, e.code(), e.err());
        Path sparkGallery = tmp.resolve("spark.gallery");
        Run g = run(new GalleryJob(), "--master", "local[2]", "--embeddings", emb, "--output",
                sparkGallery.toString());
        assertEquals(0, g.code(), g.err());
        Path localGallery = tmp.resolve("local.gallery");
        Run l = run(new GalleryCommand(), "build", "--model", model.toString(), "--lfw-preprocessing", "--root",
                root.toString(), "--output", localGallery.toString(), "--on-bad-image", "skip");
        assertEquals(0, l.code(), l.err());
        Gallery a = Gallery.load(localGallery, DIM);
        Gallery b = Gallery.load(sparkGallery, DIM);
        assertEquals(8, a.size());
        assertEquals(4, a.labels().size());
        assertEquals(a.modelId(), b.modelId());
        assertEquals(a.preprocessing(), b.preprocessing());
        assertTrue(a.preprocessing().endsWith("; align=crop"), a.preprocessing());
        assertEquals(a.labels(), b.labels());
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.label(i), b.label(i), "row " + i);
            assertArrayEquals(a.embedding(i), b.embedding(i), "row " + i);
        }
        assertTrue(g.out().contains("2 of 10 rows left out"), g.out());
    }

    @Test
    void hnswGalleryFromParquetAnswersAsTheExactOne() throws Exception {
        String emb = tmp.resolve("hnsw-emb.parquet").toString();
        Run e = run(new EmbedJob(), "--master", "local[2]", "--model", model.toString(), "--lfw-preprocessing",
                "--input", root.toString(), "--output", emb, "--partitions", "3");
        assertEquals(0, e.code(), e.err());
        Path exactFile = tmp.resolve("ref.gallery");
        Run x = run(new GalleryJob(), "--master", "local[2]", "--embeddings", emb, "--output", exactFile.toString());
        assertEquals(0, x.code(), x.err());
        for (String kind : new String[] {"hnsw", "hnsw-int7"}) {
            Path dir = tmp.resolve(kind + "-index");
            Run g = run(new GalleryJob(), "--master", "local[2]", "--embeddings", emb, "--output", dir.toString(),
                    "--kind", kind);
            assertEquals(0, g.code(), g.err());
            Gallery exact = Gallery.load(exactFile, DIM);
            try (io.spherekit.index.HnswGallery h = io.spherekit.index.HnswGallery.open(dir, false)) {
                assertEquals(exact.modelId(), h.modelId(), kind);
                // every enrolled embedding as a query: the index's top identity and cosine equal a brute force over
                // the exact gallery's rows, computed here
                for (int i = 0; i < exact.size(); i++) {
                    float[] q = exact.embedding(i);
                    String bestLabel = null;
                    double best = -2;
                    for (int j = 0; j < exact.size(); j++) {
                        double c = cosine(q, exact.embedding(j));
                        if (c > best) {
                            best = c;
                            bestLabel = exact.label(j);
                        }
                    }
                    var top = h.search(q, 1);
                    assertEquals(bestLabel, top.get(0).label(), kind + " query " + i);
                    assertEquals(best, top.get(0).score(), 1e-5, kind + " query " + i);
                }
            }
        }
        Run bad = run(new GalleryJob(), "--master", "local[2]", "--embeddings", emb, "--output",
                tmp.resolve("x").toString(), "--kind", "annoy");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("unknown gallery kind 'annoy'"), bad.err());
    }

    /**
     * A position-sensitive model (its embedding of a mirrored face differs) that records the LFW preprocessing and
     * test-time flip {@code sum} in its metadata, as {@code evaluate --flip sum --write-threshold} leaves a model.
     */
    static Path flipModel(String name) throws IOException {
        Map<String, String> md = new HashMap<>(Preprocessing.LFW_SPHEREFACE.toMetadata());
        md.put(io.spherekit.core.ModelMetadata.Key.INPUT_FLIP.key(), "sum");
        return TestModelsAccess.linear(tmp.resolve(name), 112, 96, DIM, 11, md);
    }

    /** The local SDK embedder of {@code m} with {@code flip} (null: the model's own mode). */
    static FaceEmbedder localEmbedder(Path m, TestTimeFlip flip) throws Exception {
        return FaceEmbedder.builder().setModelPath(m).optFlip(flip).build();
    }

    @Test
    void embedJobFlipIsTheModelsModeByDefaultAndTheFlagsOtherwiseAsTheLocalEmbedder() throws Exception {
        Path m = flipModel("flip-embed.onnx");
        String baseId = ModelId.of(m, Map.of());
        // mode given -> expected flip, id suffix, dimension
        Object[][] cases = {{null, TestTimeFlip.SUM, "+flip=sum", DIM}, {"concat", TestTimeFlip.CONCAT,
            "+flip=concat", 2 * DIM}, {"none", TestTimeFlip.NONE, "", DIM}};
        Map<String, float[]> unflipped = new HashMap<>();
        Map<String, float[]> summed = new HashMap<>();
        for (Object[] c : cases) {
            String flag = (String) c[0];
            TestTimeFlip mode = (TestTimeFlip) c[1];
            String out = tmp.resolve("flip-" + mode.id() + ".parquet").toString();
            List<String> args = new ArrayList<>(List.of("--master", "local[2]", "--model", m.toString(), "--input",
                    root.toString(), "--output", out, "--batch", "3", "--partitions", "3"));
            if (flag != null) {
                args.addAll(List.of("--flip", flag));
            }
            Run r = run(new EmbedJob(), args.toArray(String[]::new));
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("flip " + mode.id() + ", " + c[3] + "-d"), r.out());
            Map<String, Row> rows = byFile(out);
            try (FaceEmbedder local = localEmbedder(m, flag == null ? null : mode)) {
                assertEquals(mode, local.flip());
                String id = ModelId.of(local);
                assertEquals(baseId + c[2], id);
                int faces = 0;
                for (Row row : rows.values()) {
                    assertEquals(id, row.getString(row.fieldIndex("model_id")));
                    assertEquals(Galleries.preprocessingOf(local), row.getString(row.fieldIndex("preprocessing")));
                    if (!ImageEmbedding.OK.equals(row.getString(row.fieldIndex("status")))) {
                        continue;
                    }
                    String file = row.getString(row.fieldIndex("file"));
                    float[] got = floats(row);
                    assertEquals((int) c[3], got.length, file);
                    // the local SDK path on this JVM, in the same flip mode: the same floats
                    assertArrayEquals(local.embed(Images.read(Path.of(file)), file), got, file);
                    if (mode == TestTimeFlip.NONE) {
                        unflipped.put(file, got);
                    } else if (mode == TestTimeFlip.SUM) {
                        summed.put(file, got);
                    }
                    faces++;
                }
                assertEquals(8, faces);
            }
        }
        // the flip changes the embedding (the model is not mirror-symmetric): sum is not just the unit raw vector
        for (Map.Entry<String, float[]> e : summed.entrySet()) {
            double[] u = io.spherekit.core.Similarity.unit(unflipped.get(e.getKey()), "raw");
            double diff = 0;
            for (int j = 0; j < DIM; j++) {
                diff = Math.max(diff, Math.abs(u[j] - e.getValue()[j]));
            }
            assertTrue(diff > 1e-3, e.getKey() + ": sum equals the unflipped unit embedding (max diff " + diff + ")");
        }
        Run bad = run(new EmbedJob(), "--master", "local[2]", "--model", m.toString(), "--input", root.toString(),
                "--output", tmp.resolve("flip-bad.parquet").toString(), "--flip", "both");
        assertEquals(Cli.USAGE, bad.code());
        assertTrue(bad.err().contains("--flip: test-time flip must be none, sum or concat, got 'both'"), bad.err());
    }

    @Test
    void evaluateJobWithFlipEqualsTheLocalEvaluateAndWritesTheSameThreshold() throws Exception {
        Path pairs = smallPairs();
        Path localModel = flipModel("flip-eval-local.onnx");
        Path sparkModel = flipModel("flip-eval-spark.onnx");
        Path localReport = tmp.resolve("flip-local-eval.json");
        Path sparkReport = tmp.resolve("flip-spark-eval.json");
        Run local = run(new EvaluateCommand(), "--model", localModel.toString(), "--flip", "concat", "--pairs",
                pairs.toString(), "--root", DEEP.toString(), "--report", localReport.toString(), "--write-threshold");
        assertEquals(0, local.code(), local.err());
        Run sp = run(new EvaluateJob(), "--master", "local[2]", "--model", sparkModel.toString(), "--flip", "concat",
                "--pairs", pairs.toString(), "--root", DEEP.toString(), "--report", sparkReport.toString(),
                "--batch", "6", "--partitions", "4", "--write-threshold");
        assertEquals(0, sp.code(), sp.err());
        assertTrue(sp.out().contains("flip: concat (16-d embeddings)"), sp.out());
        ObjectMapper om = new ObjectMapper();
        JsonNode a = om.readTree(localReport.toFile());
        JsonNode b = om.readTree(sparkReport.toFile());
        assertEquals("concat", a.get("flip").asText());
        assertEquals(2 * DIM, a.get("embedding_dim").asInt());
        assertEquals(DIM, a.get("model_embedding_dim").asInt());
        assertEquals(a.get("metrics"), b.get("metrics"));
        assertEquals(a.get("roc"), b.get("roc"));
        for (String k : new String[] {"model_metadata", "preprocessing", "alignment", "embedding_dim",
            "model_embedding_dim", "flip", "pairs", "images"}) {
            assertEquals(a.get(k), b.get(k), k);
        }
        // the flip changed the scores: the unflipped evaluation of the same model has other fold thresholds
        Path noneReport = tmp.resolve("flip-none-eval.json");
        Run none = run(new EvaluateCommand(), "--model", flipModel("flip-eval-none.onnx").toString(), "--flip",
                "none", "--pairs", pairs.toString(), "--root", DEEP.toString(), "--report", noneReport.toString());
        assertEquals(0, none.code(), none.err());
        assertTrue(!om.readTree(noneReport.toFile()).at("/metrics/fold_thresholds").equals(
                a.at("/metrics/fold_thresholds")), "flip concat gave the same thresholds as none");
        // both files now record the same threshold, calibrated in flip concat
        assertEquals(a.get("threshold_written"), b.get("threshold_written"));
        assertEquals(Double.toString(a.at("/metrics/threshold_mean").asDouble()),
                b.at("/threshold_written/value").asText());
        try (FaceEmbedder l = localEmbedder(localModel, null); FaceEmbedder s2 = localEmbedder(sparkModel, null)) {
            assertEquals(TestTimeFlip.CONCAT, s2.flip());
            assertEquals(l.metadata().get(Verifier.THRESHOLD_KEY), s2.metadata().get(Verifier.THRESHOLD_KEY));
            assertEquals("pairs-small.txt 10-fold mean", s2.metadata().get(Verifier.THRESHOLD_SOURCE_KEY));
            assertEquals(a.at("/metrics/threshold_mean").asDouble(), Verifier.fromModelMetadata(s2).threshold());
        }
        // ... and refused in another flip mode
        try (FaceEmbedder other = localEmbedder(sparkModel, TestTimeFlip.SUM)) {
            io.spherekit.core.SphereKitException e = org.junit.jupiter.api.Assertions.assertThrows(
                    io.spherekit.core.SphereKitException.class, () -> Verifier.fromModelMetadata(other));
            assertTrue(e.getMessage().contains("flip concat"), e.getMessage());
        }
    }

    @Test
    void galleryJobRecordsFlipAndPreprocessingAsGalleryBuildAndRefusesMixedOnes() throws Exception {
        Path m = flipModel("flip-gallery.onnx");
        String emb = tmp.resolve("flip-gallery-emb.parquet").toString();
        Run e = run(new EmbedJob(), "--master", "local[2]", "--model", m.toString(), "--input", root.toString(),
                "--output", emb, "--partitions", "4");
        assertEquals(0, e.code(), e.err());
        Path sparkGallery = tmp.resolve("flip-spark.gallery");
        Run g = run(new GalleryJob(), "--master", "local[2]", "--embeddings", emb, "--output",
                sparkGallery.toString());
        assertEquals(0, g.code(), g.err());
        Path localGallery = tmp.resolve("flip-local.gallery");
        Run l = run(new GalleryCommand(), "build", "--model", m.toString(), "--root", root.toString(), "--output",
                localGallery.toString(), "--on-bad-image", "skip");
        assertEquals(0, l.code(), l.err());
        Gallery a = Gallery.load(localGallery, DIM);
        Gallery b = Gallery.load(sparkGallery, DIM);
        try (FaceEmbedder local = localEmbedder(m, null)) {
            assertEquals(ModelId.of(local), a.modelId());
            assertEquals(Galleries.preprocessingOf(local), a.preprocessing());
        }
        assertTrue(a.modelId().endsWith("+flip=sum") && a.preprocessing().endsWith("; align=crop; flip=sum"),
                a.modelId() + " / " + a.preprocessing());
        assertEquals(a.modelId(), b.modelId());
        assertEquals(a.preprocessing(), b.preprocessing());
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.label(i), b.label(i), "row " + i);
            assertArrayEquals(a.embedding(i), b.embedding(i), "row " + i);
        }
        Run stats = run(new GalleryCommand(), "stats", "--gallery", sparkGallery.toString());
        assertEquals(0, stats.code(), stats.err());
        assertTrue(stats.out().contains("preprocessing: " + a.preprocessing() + "\n"), stats.out());
        // a query in another flip mode is refused by gallery search, as for the local gallery
        String query = peopleWithAtLeast(2, 1).stream().map(p -> DEEP.resolve(p).resolve(p + "_0001.jpg").toString())
                .findFirst().orElseThrow();
        Run s = run(new GalleryCommand(), "search", "--model", m.toString(), "--flip", "none", "--gallery",
                sparkGallery.toString(), query);
        assertEquals(Cli.FAILURE, s.code(), s.out());
        assertTrue(s.err().contains("was built with model " + a.modelId()), s.err());
        // the HNSW index from the same Parquet records the same
        Path dir = tmp.resolve("flip-hnsw");
        Run h = run(new GalleryJob(), "--master", "local[2]", "--embeddings", emb, "--output", dir.toString(),
                "--kind", "hnsw");
        assertEquals(0, h.code(), h.err());
        try (io.spherekit.index.HnswGallery idx = io.spherekit.index.HnswGallery.open(dir, false)) {
            assertEquals(a.modelId(), idx.modelId());
            assertEquals(a.preprocessing(), idx.preprocessing());
        }
        // rows of the same model id with two preprocessings (another mean) are refused
        String other = tmp.resolve("flip-gallery-mean100.parquet").toString();
        Run e2 = run(new EmbedJob(), "--master", "local[2]", "--model", m.toString(), "--mean", "100", "--input",
                root.toString(), "--output", other);
        assertEquals(0, e2.code(), e2.err());
        String mixed = tmp.resolve("flip-gallery-mixed.parquet").toString();
        spark.read().parquet(emb).union(spark.read().parquet(other)).write().parquet(mixed);
        Run x = run(new GalleryJob(), "--master", "local[2]", "--embeddings", mixed, "--output",
                tmp.resolve("mixed.gallery").toString());
        assertEquals(Cli.FAILURE, x.code(), x.out());
        assertTrue(x.err().contains("mixes embeddings of several preprocessings")
                && x.err().contains("(p-100.0)") && x.err().contains("(p-127.5)"), x.err());
        assertTrue(!Files.exists(tmp.resolve("mixed.gallery")));
        // a Parquet without the preprocessing column (written before it existed): built, recorded as not recorded
        String old = tmp.resolve("flip-gallery-old.parquet").toString();
        spark.read().parquet(emb).drop("preprocessing").write().parquet(old);
        Path oldGallery = tmp.resolve("old-parquet.gallery");
        Run o = run(new GalleryJob(), "--master", "local[2]", "--embeddings", old, "--output", oldGallery.toString());
        assertEquals(0, o.code(), o.err());
        assertTrue(o.err().contains("has no 'preprocessing' column"), o.err());
        assertEquals("", Gallery.load(oldGallery, DIM).preprocessing());
    }

    @Test
    void modelCardNextToTheModelIsReadOnTheDriverAndUsedOnTheExecutors() throws Exception {
        Path m = TestModelsAccess.standard(tmp.resolve("carded.onnx"), 112, 96, DIM, Map.of()); // no metadata
        Path card = tmp.resolve("carded.onnx.json");
        Files.writeString(card, "{\"input_size\": \"112x96\", \"mean\": 127.5, \"std\": 128, \"channel_order\": \"BGR\","
                + " \"crop\": [0.2, 0.2, 0.6, 0.6]}");
        String out = tmp.resolve("carded.parquet").toString();
        Run r = run(new EmbedJob(), "--master", "local[2]", "--model", m.toString(), "--input", root.toString(),
                "--output", out, "--partitions", "3");
        assertEquals(0, r.code(), r.err());
        Map<String, Row> rows = byFile(out);
        try (FaceEmbedder local = FaceEmbedder.builder().setModelPath(m)
                .optModelCard(io.spherekit.core.ModelCard.read(card)).build()) {
            Preprocessing pre = local.preprocessing();
            assertEquals(Preprocessing.ChannelOrder.BGR, pre.channelOrder());
            int faces = 0;
            for (Row row : rows.values()) {
                assertEquals(Galleries.preprocessingOf(local), row.getString(row.fieldIndex("preprocessing")));
                if (!ImageEmbedding.OK.equals(row.getString(row.fieldIndex("status")))) {
                    continue;
                }
                String file = row.getString(row.fieldIndex("file"));
                BufferedImage img = Images.read(Path.of(file));
                float[] got = floats(row);
                assertArrayEquals(local.embed(img, file), got, file);
                // the fixture's closed form under the card's crop and normalisation, without ONNX Runtime: the
                // standard model averages each input channel, and in BGR order channel 0 holds blue
                byte[] px = pre.cropResize(img);
                double[] mean = new double[3];
                for (int k = 0; k < px.length; k++) {
                    mean[k % 3] += ((px[k] & 0xFF) - 127.5) / 128.0 / (px.length / 3);
                }
                double[] expected = TestModelsAccess.expected(mean[2], mean[1], mean[0], DIM);
                for (int j = 0; j < DIM; j++) {
                    assertEquals(expected[j], got[j], 1e-4 * Math.max(1, Math.abs(expected[j])), file + "[" + j + "]");
                }
                faces++;
            }
            assertEquals(8, faces);
        }
        // a flag overrides the card field by field, as in the local commands
        Run f = run(new EmbedJob(), "--master", "local[2]", "--model", m.toString(), "--channel-order", "RGB",
                "--input", root.toString(), "--output", tmp.resolve("carded-rgb.parquet").toString());
        assertEquals(0, f.code(), f.err());
        Row any = byFile(tmp.resolve("carded-rgb.parquet").toString()).values().iterator().next();
        assertTrue(any.getString(any.fieldIndex("preprocessing")).contains(" RGB, "),
                any.getString(any.fieldIndex("preprocessing")));
        // a model without metadata and without card: refused, naming the missing fields
        Path bare = TestModelsAccess.standard(tmp.resolve("bare.onnx"), 112, 96, DIM, Map.of());
        Run n = run(new EmbedJob(), "--master", "local[2]", "--model", bare.toString(), "--input", root.toString(),
                "--output", tmp.resolve("bare.parquet").toString());
        assertEquals(Cli.FAILURE, n.code(), n.out());
        assertTrue(n.err().contains("bare.onnx") && n.err().contains("mean"), n.err());
    }

    private static double cosine(float[] a, float[] b) {
        double d = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            d += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return d / Math.sqrt(na * nb);
    }

    @Test
    void oneSessionPerJvmWhateverThePartitions() throws Exception {
        Path copy = Files.copy(model, tmp.resolve("tiny-copy.onnx"));
        int before = EmbedderHolder.openedCount();
        Run r = run(new EmbedJob(), "--master", "local[2]", "--model", copy.toString(), "--lfw-preprocessing",
                "--input", root.toString(), "--output", tmp.resolve("sessions.parquet").toString(),
                "--partitions", "6", "--batch", "1");
        assertEquals(0, r.code(), r.err());
        // driver and both executor threads of local[2] share this JVM: 6 partitions, 10 batches, one session
        assertEquals(before + 1, EmbedderHolder.openedCount());
    }

    @Test
    void badInputsFailNamingTheFile() {
        Run r = run(new EmbedJob(), "--master", "local[2]", "--model", tmp.resolve("none.onnx").toString(),
                "--input", root.toString(), "--output", tmp.resolve("x.parquet").toString());
        assertEquals(Cli.FAILURE, r.code());
        assertTrue(r.err().contains("none.onnx") && r.err().contains("does not exist"), r.err());
        Run g = run(new GalleryJob(), "--master", "local[2]", "--embeddings", tmp.resolve("nothing.parquet").toString(),
                "--output", tmp.resolve("y.gallery").toString());
        assertEquals(Cli.FAILURE, g.code());
        assertTrue(g.err().contains("nothing.parquet"), g.err());
        Run b = run(new EmbedJob(), "--master", "local[2]", "--model", model.toString(), "--batch", "0",
                "--input", root.toString(), "--output", tmp.resolve("z.parquet").toString());
        assertEquals(Cli.USAGE, b.code());
    }

    @Test
    void executorsFindShippedFilesAndRefuseADifferentModel() throws Exception {
        Path shippedDir = Files.createDirectories(tmp.resolve("ship"));
        Path shipped = Files.copy(model, shippedDir.resolve("shipped-tiny.onnx"));
        spark.sparkContext().addFile(shipped.toString()); // what spark-submit --files does
        Path elsewhere = tmp.resolve("not-on-this-node/shipped-tiny.onnx");
        Path found = EmbedderSpec.resolve(elsewhere.toString(), "model");
        assertEquals(org.apache.spark.SparkFiles.get("shipped-tiny.onnx"), found.toString());
        assertTrue(Files.isSameFile(found, Path.of(org.apache.spark.SparkFiles.get("shipped-tiny.onnx"))));
        // the same name with other bytes than the driver's model: refused, naming both SHA-256s
        String driverSha = EmbedderSpec.sha256(shipped);
        EmbedderSpec other = new EmbedderSpec(elsewhere.toString(), "0".repeat(64), io.spherekit.runtime.Provider.CPU,
                1, null, null, null, true);
        io.spherekit.core.SphereKitException e = org.junit.jupiter.api.Assertions.assertThrows(
                io.spherekit.core.SphereKitException.class, other::open);
        assertTrue(e.getMessage().contains(driverSha) && e.getMessage().contains("0".repeat(64)), e.getMessage());
        Path missing = tmp.resolve("nowhere/absent.onnx");
        io.spherekit.core.SphereKitException m = org.junit.jupiter.api.Assertions.assertThrows(
                io.spherekit.core.SphereKitException.class, () -> EmbedderSpec.resolve(missing.toString(), "model"));
        assertTrue(m.getMessage().contains("--files"), m.getMessage());
    }
}
