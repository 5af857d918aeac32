package io.spherekit.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.spherekit.core.ModelMetadata.Key;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link TestTimeFlip}: values worked out by hand in the comments. */
class TestTimeFlipTest {

    @Test
    void combinesAsDocumented() {
        float[] e = {3, 4};   // unit: (0.6, 0.8)
        float[] f = {0, -2};  // unit: (0, -1)
        // sum: (0.6, -0.2) / sqrt(0.36 + 0.04) = (0.6, -0.2) / 0.632456 = (0.948683, -0.316228)
        assertArrayEquals(new float[] {0.9486833f, -0.3162278f}, TestTimeFlip.SUM.combine(e, f), 1e-6f);
        // concat: (0.6, 0.8, 0, -1) / sqrt(2)
        assertArrayEquals(new float[] {0.4242641f, 0.5656854f, 0f, -0.7071068f}, TestTimeFlip.CONCAT.combine(e, f),
                1e-6f);
        float[] none = TestTimeFlip.NONE.combine(e, null);
        assertArrayEquals(new float[] {3, 4}, none, 0f);
        none[0] = 9;
        assertEquals(3f, e[0], "NONE returns a copy");
    }

    @Test
    void dimensionsAndNames() {
        assertEquals(512, TestTimeFlip.NONE.outputDim(512));
        assertEquals(512, TestTimeFlip.SUM.outputDim(512));
        assertEquals(1024, TestTimeFlip.CONCAT.outputDim(512));
        assertEquals(TestTimeFlip.CONCAT, TestTimeFlip.parse(" Concat "));
        assertEquals("sum", TestTimeFlip.SUM.id());
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> TestTimeFlip.parse("both"));
        assertEquals("test-time flip must be none, sum or concat, got 'both'", x.getMessage());
    }

    @Test
    void refusesWhatCannotBeNormalised() {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
                () -> TestTimeFlip.SUM.combine(new float[] {0, 0}, new float[] {1, 0}));
        assertEquals("flip sum: the face's embedding has zero norm", x.getMessage());
        x = assertThrows(IllegalArgumentException.class,
                () -> TestTimeFlip.SUM.combine(new float[] {1, 0}, new float[] {-2, 0}));
        assertEquals("flip sum: the face's and the mirror's embeddings cancel out (zero-norm sum)", x.getMessage());
        x = assertThrows(IllegalArgumentException.class,
                () -> TestTimeFlip.CONCAT.combine(new float[] {1, 0}, new float[] {1, 0, 0}));
        assertEquals("flip concat: the mirror's embedding has 3 values, the face's 2", x.getMessage());
        x = assertThrows(IllegalArgumentException.class,
                () -> TestTimeFlip.CONCAT.combine(new float[] {1, Float.NaN}, new float[] {1, 0}));
        assertEquals("flip concat: the face's embedding holds NaN", x.getMessage());
    }

    @Test
    void metadataKeyIsValidated() {
        assertEquals(TestTimeFlip.NONE, ModelMetadata.EMPTY.flip(), "absent means none");
        assertEquals(TestTimeFlip.CONCAT, ModelMetadata.parse(Map.of(Key.INPUT_FLIP.key(), "concat")).flip());
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
                () -> ModelMetadata.parse(Map.of(Key.INPUT_FLIP.key(), "SUM")));
        assertEquals("metadata spherekit.input.flip='SUM' is not none, sum or concat", x.getMessage());
        assertEquals("sum", ModelMetadata.builder().put(Key.INPUT_FLIP, "sum").build().toMap().get("spherekit.input.flip"));
    }
}
