package io.spherekit.trainer;

import io.spherekit.runtime.Preprocessing;
import io.spherekit.runtime.eval.PairList;
import java.nio.file.Path;

public class EvalProbe {
    public static void main(String[] a) throws Exception {
        var m = ModelIO.load(Path.of(a[0]), false);
        Path lfw = Path.of("/work/shared/data/lfw");
        var pairs = PairList.read(lfw.resolve(a.length > 1 ? a[1] : "pairsDevTest.txt"), lfw.resolve("lfw-deepfunneled"));
        var r = Dl4jVerification.evaluate(m.graph(), Preprocessing.LFW_SPHEREFACE, pairs);
        System.err.println(r.summary());
    }
}
