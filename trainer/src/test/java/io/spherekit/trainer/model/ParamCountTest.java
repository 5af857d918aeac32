package io.spherekit.trainer.model;

import io.spherekit.trainer.head.ASoftmaxHead;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.learning.config.Sgd;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Parameter counts of SphereFace-4/10/20/36/64 at 112×96 against a hand derivation (paper Table 2):
 * a 3×3 conv with bias has 9·cIn·cOut + cOut parameters, a per-channel PReLU C, a residual unit two 3×3 convs and
 * two PReLUs, fc5 (7·6·512)·512 + 512, the A-Softmax head 512·classes + 1 (λ).
 */
class ParamCountTest {

    static long conv(long in, long out) {
        return 9 * in * out + out;
    }

    static long byHand(int[] units, int classes) {
        long[] c = {64, 128, 256, 512};
        long total = 0;
        long in = 3;
        for (int s = 0; s < 4; s++) {
            total += conv(in, c[s]) + c[s];                          // conv{s}_1 + relu{s}_1
            total += units[s] * (2 * conv(c[s], c[s]) + 2 * c[s]);   // residual units
            in = c[s];
        }
        total += 512L * 7 * 6 * 512 + 512;                           // fc5
        total += 512L * classes + 1;                                 // fc6 W + λ
        return total;
    }

    @ParameterizedTest
    @CsvSource({"4,0,0,0,0", "10,0,1,2,0", "20,1,2,4,1", "36,2,4,8,2", "64,3,8,16,3"})
    void matchesHandDerivation(int depth, int u1, int u2, int u3, int u4) {
        int[] units = {u1, u2, u3, u4};
        assertEquals(depth, 4 + 2 * (u1 + u2 + u3 + u4), "depth = 4 + 2·units");
        ComputationGraph net = new ComputationGraph(SphereFaceNet.configuration(depth, 1.0, 512, 112, 96,
                new ASoftmaxHead(0, 10, 4), new Sgd(0.1), new Sgd(0.2), 5e-4, 1));
        net.init();
        assertEquals(byHand(units, 10), net.numParams());
        // BatchNorm variant: 4 parameters (γ, β, running mean, running variance) per channel after every conv
        ComputationGraph bn = new ComputationGraph(SphereFaceNet.configuration(depth, 1.0, 512, 112, 96,
                new ASoftmaxHead(0, 10, 4), new Sgd(0.1), new Sgd(0.2), 5e-4, 1, true));
        bn.init();
        long[] c = {64, 128, 256, 512};
        long bnParams = 0;
        for (int s = 0; s < 4; s++) {
            bnParams += 4 * c[s] * (1 + 2L * units[s]);
        }
        assertEquals(byHand(units, 10) + bnParams, bn.numParams());
        if (depth == 20) {
            // written out: 1,856 + 73,984 + 73,984 + 2·295,424 + 295,424 + 4·1,180,672 + 1,180,672 + 4,720,640
            // + 11,010,560 (fc5) = 22,670,656 backbone parameters, plus 5,121 in a 10-class head
            assertEquals(22_670_656L + 5_121L, net.numParams());
        }
    }
}
