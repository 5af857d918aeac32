package io.spherekit.bench;

import io.spherekit.core.Images;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.cli.LfwLocation;
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
import java.util.Locale;
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
 * <p>Param {@code lfwDir}: the folder of JPEGs. Empty (the default) means {@code lfw-deepfunneled/} inside the LFW
 * folder that every SphereKit command uses ({@link LfwLocation}: {@code $SPHEREKIT_LFW}, else
 * {@code ../shared/data/lfw} next to the repository root given by {@code -Dspherekit.home}, which
 * {@code bench/run-all.sh} sets; JMH forks inherit both). {@code run-all.sh --lfw DIR} passes
 * {@code -p lfwDir=DIR/lfw-deepfunneled}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class PreprocessBench {

    @State(Scope.Benchmark)
    public static class Corpus {
        @Param({""})
        public String lfwDir;
        @Param({"2000"})
        public int files;

        Path[] paths;
        final AtomicInteger next = new AtomicInteger();
        final Preprocessing pre = Preprocessing.LFW_SPHEREFACE;

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            Path dir = lfwDir.isEmpty() ? LfwLocation.resolve(null).resolve("lfw-deepfunneled") : Path.of(lfwDir);
            if (!Files.isDirectory(dir)) {
                throw new IllegalStateException("LFW images not found: " + dir.toAbsolutePath() + " is not a folder "
                        + "(pass -p lfwDir=DIR, run-all.sh --lfw DIR, or set " + LfwLocation.ENV + ")");
            }
            try (Stream<Path> s = Files.walk(dir)) {
                List<Path> all = s.filter(p -> p.toString().toLowerCase(Locale.ROOT).endsWith(".jpg")).sorted()
                        .limit(files).collect(Collectors.toList());
                if (all.isEmpty()) {
                    throw new IllegalStateException("no .jpg under " + dir.toAbsolutePath());
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
