package io.spherekit.trainer;

import io.spherekit.core.ModelMetadata.Key;
import io.spherekit.core.Preprocessing;
import io.spherekit.trainer.data.FaceDataset;
import io.spherekit.trainer.model.SphereFaceNet;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code train --init-from}: on the tiny generated sets of {@link TinyTrainingTest}, a source model is trained for 4
 * iterations and saved; fine-tuning runs must start from exactly its backbone parameters, keep its head only for the
 * same identities, and shift the λ schedule by its iterations when continuing.
 */
class FineTuneTest {

    @TempDir
    static Path tmp;
    static FaceDataset four;
    static FaceDataset six;
    static Path sourceZip;
    static ComputationGraph source;

    static TrainConfig.Builder config(Path out) {
        return TrainConfig.builder().imageRoot(tmp.resolve("faces4")).peopleFile(null).outputDir(out).depth(4)
                .widthMultiplier(0.125).embeddingDim(32).head("asoftmax").m(4).epochs(1).batchSize(8).lr(0.01)
                .seed(7).threads(1).valFraction(0.0).cropMargin(0).cacheDir(null).checkpointEvery(0);
    }

    static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream());
    }

    @BeforeAll
    static void trainSource() throws Exception {
        TinyTrainingTest.makeDataset(tmp.resolve("faces4"), 4, 8, 1);
        TinyTrainingTest.makeDataset(tmp.resolve("faces6"), 6, 8, 2);
        four = FaceDataset.load(FaceDataset.list(tmp.resolve("faces4"), null, 2, 0), Preprocessing.LFW_SPHEREFACE, 1,
                null);
        six = FaceDataset.load(FaceDataset.list(tmp.resolve("faces6"), null, 2, 0), Preprocessing.LFW_SPHEREFACE, 1,
                null);
        Trainer.Result r = new Trainer(config(tmp.resolve("src")).build(), quiet()).train(four);
        assertEquals(4, r.iterations(), "32 images at batch 8, 1 epoch");
        sourceZip = tmp.resolve("src/model.zip");
        ModelIO.save(r.net(), r.metadata(), sourceZip, false);
        source = ModelIO.load(sourceZip, false).graph();
    }

    static Map<String, INDArray> params(ComputationGraph g, String layer) {
        return g.getLayer(layer).paramTable();
    }

    /** Every non-head parameter of {@code a} equals {@code b}'s exactly, or (expectEqual false) some differs. */
    static boolean backboneEqual(ComputationGraph a, ComputationGraph b) {
        for (Layer l : a.getLayers()) {
            String name = l.conf().getLayer().getLayerName();
            if (name.equals(SphereFaceNet.HEAD)) {
                continue;
            }
            for (Map.Entry<String, INDArray> p : l.paramTable().entrySet()) {
                if (!p.getValue().equals(params(b, name).get(p.getKey()))) {
                    return false;
                }
            }
        }
        return true;
    }

    @Test
    void sameIdentitiesCopyTheBackboneAndKeepTheHead() throws Exception {
        TrainConfig cfg = config(tmp.resolve("ft-same")).initFrom(sourceZip).build();
        Trainer.Initial init = new Trainer(cfg, quiet()).initial(four, FineTune.plan(cfg));
        Trainer.Initial scratch = new Trainer(config(tmp.resolve("scratch")).build(), quiet()).initial(four, null);
        assertFalse(backboneEqual(scratch.net(), source), "a fresh network differs from the trained source");
        assertTrue(backboneEqual(init.net(), source), "the fine-tuning run starts from the source's backbone");
        INDArray w = params(init.net(), SphereFaceNet.HEAD).get("W");
        assertArrayEquals(new long[] {32, 4}, w.shape());
        assertEquals(params(source, SphereFaceNet.HEAD).get("W"), w, "same identities: the head is kept");
        assertNotEquals(params(scratch.net(), SphereFaceNet.HEAD).get("W"), w);
        assertTrue(init.applied().headKept());
        long backboneValues = 0;
        for (Layer l : source.getLayers()) {
            if (!l.conf().getLayer().getLayerName().equals(SphereFaceNet.HEAD)) {
                backboneValues += l.numParams();
            }
        }
        assertEquals(backboneValues + 32 * 4, init.applied().parametersCopied(), "backbone + head W, not λ");
    }

    @Test
    void aNewIdentitySetGetsANewHeadOfItsSize() throws Exception {
        TrainConfig cfg = config(tmp.resolve("ft-six")).imageRoot(tmp.resolve("faces6")).initFrom(sourceZip).build();
        Trainer.Initial init = new Trainer(cfg, quiet()).initial(six, FineTune.plan(cfg));
        assertTrue(backboneEqual(init.net(), source));
        assertArrayEquals(new long[] {32, 6}, params(init.net(), SphereFaceNet.HEAD).get("W").shape(),
                "one class per new identity");
        assertFalse(init.applied().headKept());
        assertEquals("new (the model has 4 classes, this run 6)", init.applied().headReason());

        // four classes again, but other people (person_2..person_5 of the six): same count, another identity set
        FaceDataset other = six.subset(new int[] {2, 3, 4, 5});
        Trainer.Initial o = new Trainer(cfg, quiet()).initial(other, FineTune.plan(cfg));
        assertEquals("new (same class count 4, but another identity set)", o.applied().headReason());
        assertNotEquals(params(source, SphereFaceNet.HEAD).get("W"), params(o.net(), SphereFaceNet.HEAD).get("W"));
    }

    @Test
    void lambdaContinuesOrRestartsAndTheChoiceIsRecorded() throws Exception {
        // λ(t) = max(5, 1000 / (1 + 0.12 t)); the source ran 4 iterations, the fine-tuning run 4 more
        Trainer.Result cont = new Trainer(config(tmp.resolve("ft-cont")).initFrom(sourceZip).build(), quiet())
                .train(four);
        Map<String, String> md = cont.metadata();
        assertEquals("4", md.get(Key.HEAD_LAMBDA_OFFSET.key()));
        assertEquals(1000 / (1 + 0.12 * 8), Double.parseDouble(md.get(Key.HEAD_LAMBDA_FINAL.key())), 1e-9);
        assertEquals("continue", md.get(Key.INIT_FROM_LAMBDA.key()));
        assertEquals("model.zip", md.get(Key.INIT_FROM.key()), "a name, never a path");
        assertEquals("4", md.get(Key.INIT_FROM_ITERATIONS.key()));
        assertTrue(md.get(Key.INIT_FROM_HEAD.key()).startsWith("kept"), md.toString());
        assertEquals("4", md.get(Key.TRAINING_ITERATIONS.key()), "this run's own iterations");

        Trainer.Result restart = new Trainer(config(tmp.resolve("ft-restart")).initFrom(sourceZip)
                .lambdaScheduleMode("restart").build(), quiet()).train(four);
        assertEquals("0", restart.metadata().get(Key.HEAD_LAMBDA_OFFSET.key()));
        assertEquals(1000 / (1 + 0.12 * 4), Double.parseDouble(restart.metadata().get(Key.HEAD_LAMBDA_FINAL.key())),
                1e-9);
        assertEquals("restart", restart.metadata().get(Key.INIT_FROM_LAMBDA.key()));
    }

    /** --lambda-gamma auto: λ ends at its floor of 5 on the run's last iteration, from scratch and when continuing. */
    @Test
    void autoGammaEndsAtTheFloorAndIsRecorded() throws Exception {
        Trainer.Result scratch = new Trainer(config(tmp.resolve("auto-scratch")).lambdaGamma(Double.NaN).build(), quiet())
                .train(four);
        assertEquals(4, scratch.iterations());
        assertEquals(5.0, Double.parseDouble(scratch.metadata().get(Key.HEAD_LAMBDA_FINAL.key())), 1e-9);
        // γ = (1000/5 − 1) / 4 = 49.75, written into the recorded schedule
        String schedule = scratch.metadata().get(Key.HEAD_LAMBDA_SCHEDULE.key());
        assertTrue(schedule.contains("*(1+49.75*iter)") && schedule.contains("gamma auto"), schedule);

        // continuing after the source's 4 iterations: the floor at global iteration 8, so γ = 199 / 8
        Trainer.Result cont = new Trainer(config(tmp.resolve("auto-cont")).lambdaGamma(Double.NaN).initFrom(sourceZip)
                .build(), quiet()).train(four);
        assertEquals("4", cont.metadata().get(Key.HEAD_LAMBDA_OFFSET.key()));
        assertEquals(5.0, Double.parseDouble(cont.metadata().get(Key.HEAD_LAMBDA_FINAL.key())), 1e-9);
        assertTrue(cont.metadata().get(Key.HEAD_LAMBDA_SCHEDULE.key()).contains("*(1+24.875*iter)"),
                cont.metadata().toString());
    }

    @Test
    void anIncompatibleArchitectureOrAMissingFileIsRefusedNamingTheFile() throws Exception {
        TrainConfig wider = config(tmp.resolve("ft-wide")).widthMultiplier(0.25).initFrom(sourceZip).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Trainer(wider, quiet()).initial(four, FineTune.plan(wider)));
        assertTrue(e.getMessage().startsWith("--init-from " + sourceZip + ": its backbone is sphereface-4 width 0.125,"
                + " 32-d, input 112x96, this run's is sphereface-4 width 0.25, 32-d, input 112x96: layer "),
                e.getMessage());
        assertTrue(e.getMessage().contains(" there and ") && e.getMessage().endsWith("or from scratch"),
                e.getMessage());

        TrainConfig deeper = config(tmp.resolve("ft-deep")).depth(10).initFrom(sourceZip).build();
        e = assertThrows(IllegalArgumentException.class,
                () -> new Trainer(deeper, quiet()).initial(four, FineTune.plan(deeper)));
        assertTrue(e.getMessage().startsWith("--init-from " + sourceZip + ": its backbone is sphereface-4 width"),
                e.getMessage());

        Path missing = tmp.resolve("nope/model.zip");
        IOException io = assertThrows(IOException.class,
                () -> FineTune.plan(config(tmp.resolve("x")).initFrom(missing).build()));
        assertEquals("--init-from " + missing + ": model file not found: " + missing, io.getMessage());
    }

    @Test
    void identityHashIsOverNamesInClassOrder() {
        // printf 'a\nb\n' | sha256sum
        assertEquals("911169ddaaf146aff539f58c26c489af3b892dff0fe283c1c264c65ae5aa59a2",
                FineTune.identitiesSha256(java.util.List.of("a", "b")));
        assertNotEquals(FineTune.identitiesSha256(java.util.List.of("a", "b")),
                FineTune.identitiesSha256(java.util.List.of("b", "a")));
        assertEquals(Arrays.asList("person_0", "person_1", "person_2", "person_3"), four.identities());
    }
}
