package io.spherekit.trainer;

import io.spherekit.core.Similarity;
import io.spherekit.core.eval.VerificationEvaluation;
import io.spherekit.trainer.data.FaceDataset;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * The per-epoch generalisation check: genuine and impostor pairs drawn from held-out identities that the model never
 * trains on, scored by cosine and evaluated with the LFW 10-fold protocol. (pairsDevTrain cannot serve: its images
 * are training images.) Pairs are drawn once, seeded, and reused every epoch.
 */
public final class HeldOutCheck {
    private final FaceDataset data;
    private final int[][] pairs; // {i, j}
    private final boolean[] genuine;
    private final int[] fold;

    /**
     * @param data         held-out identities (labels 0..n−1)
     * @param perIdentity  genuine pairs per identity (at most); as many impostor pairs are drawn
     */
    public HeldOutCheck(FaceDataset data, int perIdentity, long seed) {
        this.data = data;
        Random r = new Random(seed);
        List<List<Integer>> byId = new ArrayList<>();
        for (int c = 0; c < data.numClasses(); c++) {
            byId.add(new ArrayList<>());
        }
        for (int i = 0; i < data.size(); i++) {
            byId.get(data.label(i)).add(i);
        }
        List<int[]> gen = new ArrayList<>();
        for (List<Integer> imgs : byId) {
            int n = imgs.size();
            if (n < 2) {
                continue;
            }
            int want = Math.min(perIdentity, n * (n - 1) / 2);
            Set<Long> seen = new HashSet<>();
            while (seen.size() < want) {
                int a = r.nextInt(n);
                int b = r.nextInt(n);
                if (a == b) {
                    continue;
                }
                long key = (long) Math.min(a, b) * n + Math.max(a, b);
                if (seen.add(key)) {
                    gen.add(new int[]{imgs.get(a), imgs.get(b)});
                }
            }
        }
        if (gen.size() < 10 || data.numClasses() < 2) {
            throw new IllegalArgumentException("held-out split too small for a 10-fold check: " + gen.size()
                    + " genuine pairs from " + data.numClasses() + " identities; raise --val-fraction");
        }
        List<int[]> imp = new ArrayList<>();
        while (imp.size() < gen.size()) {
            int a = r.nextInt(data.size());
            int b = r.nextInt(data.size());
            if (data.label(a) != data.label(b)) {
                imp.add(new int[]{a, b});
            }
        }
        int n = gen.size() + imp.size();
        pairs = new int[n][];
        genuine = new boolean[n];
        fold = new int[n];
        for (int i = 0; i < gen.size(); i++) {
            pairs[i] = gen.get(i);
            genuine[i] = true;
            fold[i] = i % 10;
            pairs[gen.size() + i] = imp.get(i);
            fold[gen.size() + i] = i % 10;
        }
    }

    public int pairCount() {
        return pairs.length;
    }

    public int identityCount() {
        return data.numClasses();
    }

    /** Embeds the held-out images with the current network and evaluates the pairs. */
    public VerificationEvaluation.Result evaluate(ComputationGraph net) {
        float[][] emb = Dl4jEmbedder.embed(net, data, 64);
        double[] s = new double[pairs.length];
        for (int i = 0; i < pairs.length; i++) {
            s[i] = Similarity.cosine(emb[pairs[i][0]], emb[pairs[i][1]]);
        }
        return VerificationEvaluation.evaluate(s, genuine, fold);
    }
}
