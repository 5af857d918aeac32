package io.spherekit.bench;

import io.spherekit.core.Images;
import io.spherekit.core.Preprocessing;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Preprocessing + IO (suite "preprocess"): read a real LFW JPEG from disk, decode it ({@link Images#read}), then
 * crop + resize + normalise to the NCHW float tensor ({@link Preprocessing#toTensor}, LFW SphereFace recipe).
 * Score: ops/s = images/s (summed over threads). Files cycle through the first {@code files} JPEGs of
 * {@code lfwDir} (sorted), so the OS page cache serves them after the first pass: this measures decode and
 * preprocessing, not disk.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class PreprocessBench {

    @State(Scope.Benchmark)
    public static class Corpus {
        @Param({"/work/shared/data/lfw/lfw-deepfunneled"})
        public String lfwDir;
        @Param({"2000"})
        public int files;

        Path[] paths;
        final AtomicInteger next = new AtomicInteger();
        final Preprocessing pre = Preprocessing.LFW_SPHEREFACE;

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            try (Stream<Path> s = Files.walk(Path.of(lfwDir))) {
                List<Path> all = s.filter(p -> p.toString().toLowerCase().endsWith(".jpg")).sorted()
                        .limit(files).collect(Collectors.toList());
                if (all.isEmpty()) {
                    throw new IllegalStateException("no .jpg under " + lfwDir);
                }
                paths = all.toArray(new Path[0]);
            }
        }

        Path nextPath() {
            return paths[Math.floorMod(next.getAndIncrement(), paths.length)];
        }
    }

    private static float[] one(Corpus c) {
        try {
            BufferedImage img = Images.read(c.nextPath());
            return c.pre.toTensor(img);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Benchmark
    @Threads(1)
    public float[] decodePreprocess1T(Corpus c) {
        return one(c);
    }

    @Benchmark
    @Threads(2)
    public float[] decodePreprocess2T(Corpus c) {
        return one(c);
    }
}
