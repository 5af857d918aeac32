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
}
