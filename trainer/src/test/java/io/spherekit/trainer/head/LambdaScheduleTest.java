package io.spherekit.trainer.head;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class LambdaScheduleTest {
    @Test
    void followsTheSphereFaceSchedule() {
        LambdaSchedule s = LambdaSchedule.SPHEREFACE;
        assertEquals(1000.0, s.valueAt(0), 0);
        assertEquals(1000.0 / 1.12, s.valueAt(1), 1e-9);
        assertEquals(1000.0 / 13.0, s.valueAt(100), 1e-9);
        // 1000 / (1 + 0.12 i) = 5  <=>  i = 1658.33: still above the floor at 1658, at the floor from 1659 on
        assertEquals(1000.0 / (1 + 0.12 * 1658), s.valueAt(1658), 1e-9);
        assertTrue(s.valueAt(1658) > 5);
        assertEquals(5.0, s.valueAt(1659), 0);
        assertEquals(5.0, s.valueAt(1_000_000), 0);
        for (int i = 1; i < 3000; i++) {
            assertTrue(s.valueAt(i) <= s.valueAt(i - 1), "non-increasing");
        }
    }

    @Test
    void powerAndFloorAreHonoured() {
        LambdaSchedule s = new LambdaSchedule(1500, 0.1, 2, 3);
        assertEquals(1500 * Math.pow(1 + 0.1 * 10, -2), s.valueAt(10), 1e-9);
        assertEquals(3.0, s.valueAt(100_000), 0);
    }

    @Test
    void rejectsContradictions() {
        assertThrows(IllegalArgumentException.class, () -> new LambdaSchedule(0, 0.12, 1, 5));
        assertThrows(IllegalArgumentException.class, () -> new LambdaSchedule(4, 0.12, 1, 5));
        assertThrows(IllegalArgumentException.class, () -> new LambdaSchedule(1000, -1, 1, 5));
        assertThrows(IllegalArgumentException.class, () -> LambdaSchedule.SPHEREFACE.valueAt(-1));
    }

    @Test
    void autoGammaReachesTheFloorAtTheGivenIteration() {
        // power 1: 1000 / (1 + g·1659) = 5  <=>  g = 199 / 1659 (≈ 0.11995, the reference's 0.12 rounds it)
        double g = LambdaSchedule.gammaReachingFloorAt(1000, 1, 5, 1659);
        assertEquals(199.0 / 1659, g, 1e-15);
        LambdaSchedule s = new LambdaSchedule(1000, g, 1, 5);
        assertEquals(5.0, s.valueAt(1659), 1e-9);
        assertTrue(s.valueAt(1658) > 5.0 + 1e-4);
        // a 12-epoch run of 297 iterations per epoch (9525 images at batch 32): floor at 3564
        LambdaSchedule twelve = new LambdaSchedule(1000, LambdaSchedule.gammaReachingFloorAt(1000, 1, 5, 3564), 1, 5);
        assertEquals(5.0, twelve.valueAt(3564), 1e-9);
        assertEquals(1000.0 / (1 + 199.0 / 2), twelve.valueAt(1782), 1e-9, "half way: 1000 / 100.5");
        // power 2: 1500 (1 + g·100)^-2 = 3  <=>  g = (sqrt(500) - 1) / 100
        assertEquals((Math.sqrt(500) - 1) / 100, LambdaSchedule.gammaReachingFloorAt(1500, 2, 3, 100), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> LambdaSchedule.gammaReachingFloorAt(1000, 1, 0, 100));
        assertThrows(IllegalArgumentException.class, () -> LambdaSchedule.gammaReachingFloorAt(1000, 0, 5, 100));
        assertThrows(IllegalArgumentException.class, () -> LambdaSchedule.gammaReachingFloorAt(5, 1, 5, 100));
        assertThrows(IllegalArgumentException.class, () -> LambdaSchedule.gammaReachingFloorAt(1000, 1, 5, 0));
    }
}
