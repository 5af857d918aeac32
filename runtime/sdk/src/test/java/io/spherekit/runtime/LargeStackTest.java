package io.spherekit.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/** {@link LargeStack}: one long-lived thread for every call, with a large stack; exceptions pass unchanged. */
class LargeStackTest {

    private static int depth(int n) {
        return n == 0 ? 0 : 1 + depth(n - 1);
    }

    @Test
    void everyCallRunsOnTheSameLargeStackThread() throws Exception {
        Thread first = LargeStack.call("a", Thread::currentThread);
        Thread second = LargeStack.call("b", Thread::currentThread);
        assertSame(first, second); // one thread, not one per call (each new native thread kept a malloc arena)
        assertNotSame(Thread.currentThread(), first);
        assertEquals(LargeStack.THREAD_NAME + " (load)", LargeStack.call("load", () -> Thread.currentThread()
                .getName()));
        assertEquals(LargeStack.THREAD_NAME, first.getName()); // renamed back after the call
        assertEquals(true, first.isDaemon());
        // a nested call runs directly instead of waiting for itself
        assertSame(first, LargeStack.call("outer", () -> LargeStack.call("inner", Thread::currentThread)));
    }

    @Test
    void theStackHoldsRecursionThatOverflowsADefaultThread() throws Exception {
        int n = 300_000; // about 30 MB of frames at ~100 bytes each; a default 1 MB (or 8 MB) stack overflows
        Thread small = new Thread(null, () -> {
            try {
                depth(n);
                throw new AssertionError("a 1 MB stack held " + n + " frames; the test proves nothing");
            } catch (StackOverflowError expected) {
                // the control: the same recursion does not fit a small stack
            }
        }, "small", 1L << 20);
        small.start();
        small.join();
        assertEquals(n, LargeStack.call("deep", () -> depth(n)));
    }

    @Test
    void exceptionsAndErrorsPassUnchanged() {
        IOException io = new IOException("disk");
        assertSame(io, assertThrows(IOException.class, () -> LargeStack.call("x", () -> {
            throw io;
        })));
        AssertionError err = new AssertionError("boom");
        assertSame(err, assertThrows(AssertionError.class, () -> LargeStack.call("y", () -> {
            throw err;
        })));
    }
}
