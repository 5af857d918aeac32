package io.spherekit.core.align;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SimilarityTransformTest {

    @Test
    void templateMapsOntoItselfExactly() {
        double[][] t = AlignmentTemplate.SPHEREFACE.points();
        SimilarityTransform s = SimilarityTransform.estimate(t, t);
        assertEquals(1.0, s.a(), 1e-12);
        assertEquals(0.0, s.b(), 1e-12);
        assertEquals(0.0, s.tx(), 1e-9);
        assertEquals(0.0, s.ty(), 1e-9);
        for (double[] p : t) {
            double[] q = s.apply(p[0], p[1]);
            assertEquals(p[0], q[0], 1e-9);
            assertEquals(p[1], q[1], 1e-9);
        }
    }

    @Test
    void knownRotationScaleTranslationMapsBackWithinHalfAPixel() {
        double[][] t = AlignmentTemplate.ARCFACE.points();
        // Move the template by hand: rotate 30 degrees, scale 2.5, shift (140, -20), as a face in a photo would be.
        double c = Math.cos(Math.toRadians(30));
        double sn = Math.sin(Math.toRadians(30));
        double[][] photo = new double[4][];
        for (int i = 0; i < 4; i++) {
            double x = t[i][0];
            double y = t[i][1];
            photo[i] = new double[] {2.5 * (c * x - sn * y) + 140, 2.5 * (sn * x + c * y) - 20};
        }
        SimilarityTransform back = SimilarityTransform.estimate(photo, t);
        assertEquals(1 / 2.5, back.scale(), 1e-9);
        assertEquals(-30, Math.toDegrees(back.rotation()), 1e-9);
        for (int i = 0; i < 4; i++) {
            double[] q = back.apply(photo[i][0], photo[i][1]);
            assertEquals(t[i][0], q[0], 0.5);
            assertEquals(t[i][1], q[1], 0.5);
            assertEquals(t[i][0], q[0], 1e-9, "noise-free points map back exactly");
        }
    }

    @Test
    void leastSquaresOnNoisyPointsStaysWithinHalfAPixel() {
        double[][] t = AlignmentTemplate.SPHEREFACE.points();
        double[][] photo = new double[4][];
        double[] noise = {0.3, -0.2, -0.25, 0.1, 0.2, 0.3, -0.3, -0.15};
        SimilarityTransform known = SimilarityTransform.of(1.7, Math.toRadians(-12), 33, 47);
        for (int i = 0; i < 4; i++) {
            double[] p = known.apply(t[i][0], t[i][1]);
            photo[i] = new double[] {p[0] + noise[2 * i], p[1] + noise[2 * i + 1]};
        }
        SimilarityTransform back = SimilarityTransform.estimate(photo, t);
        for (int i = 0; i < 4; i++) {
            double[] q = back.apply(photo[i][0], photo[i][1]);
            assertEquals(t[i][0], q[0], 0.5);
            assertEquals(t[i][1], q[1], 0.5);
        }
        assertEquals(1 / 1.7, back.scale(), 0.01);
        assertEquals(12, Math.toDegrees(back.rotation()), 0.5);
    }

    @Test
    void twoPointsGiveTheExactSimilarity() {
        // (0,0)->(10,10), (1,0)->(10,12): scale 2, rotation +90 degrees (x axis onto y axis).
        SimilarityTransform s = SimilarityTransform.estimate(new double[][] {{0, 0}, {1, 0}},
                new double[][] {{10, 10}, {10, 12}});
        assertEquals(0, s.a(), 1e-12);
        assertEquals(2, s.b(), 1e-12);
        assertEquals(10, s.tx(), 1e-12);
        assertEquals(10, s.ty(), 1e-12);
        double[] p = s.inverse().apply(10, 12);
        assertEquals(1, p[0], 1e-12);
        assertEquals(0, p[1], 1e-12);
    }

    @Test
    void degenerateInputIsRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> SimilarityTransform.estimate(new double[][] {{1, 1}, {1, 1}}, new double[][] {{0, 0}, {1, 1}}));
        assertThrows(IllegalArgumentException.class,
                () -> SimilarityTransform.estimate(new double[][] {{1, 1}}, new double[][] {{0, 0}}));
    }
}
