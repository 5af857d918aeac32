package io.spherekit.runtime.cli;

import io.spherekit.core.Preprocessing;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.NoFaceException;
import io.spherekit.core.Images;
import io.spherekit.core.SphereKitException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/** Embeds a list of image files in batches, decoding each batch in parallel, with a progress line. */
final class EmbeddingJob {

    /** What to do with an image in which an aligning embedder finds no usable face. */
    enum NoFace {
        /** Fail the job with the {@link NoFaceException} naming the file. */
        FAIL,
        /** Leave the image out (its embedding is {@code null}) and list it in {@link Output#skipped()}. */
        SKIP,
        /** Embed it from the fixed crop and list it in {@link Output#cropFallbacks()} (evaluate). */
        CROP
    }

    /** An image left out: the file, why ({@link NoFaceException.Reason#text()}), and the full message. */
    record Skipped(Path file, String reason, String message) {
    }

    /** The {@link Skipped#reason()} of a file that could not be decoded as an image. */
    static final String UNDECODABLE = "undecodable";

    /**
     * Embeddings in input order ({@code null} for a {@linkplain NoFace#SKIP skipped} image), the wall-clock seconds
     * spent decoding + embedding, the images embedded from the fixed crop instead ({@link NoFace#CROP}) and the
     * images left out ({@link NoFace#SKIP}), both sorted by file.
     */
    record Output(float[][] embeddings, double seconds, List<String> cropFallbacks, List<Skipped> skipped) {
        double imagesPerSecond() {
            return seconds > 0 ? embeddings.length / seconds : 0;
        }

        /** @return the number of skipped images per reason, in first-seen order of the sorted list */
        Map<String, Integer> skippedByReason() {
            Map<String, Integer> m = new LinkedHashMap<>();
            skipped.forEach(s -> m.merge(s.reason(), 1, Integer::sum));
            return m;
        }

        /** @return e.g. {@code 2 (1 no face, 1 face too small)}, or {@code 0} */
        String skippedSummary() {
            if (skipped.isEmpty()) {
                return "0";
            }
            StringBuilder sb = new StringBuilder().append(skipped.size()).append(" (");
            int i = 0;
            for (Map.Entry<String, Integer> e : skippedByReason().entrySet()) {
                sb.append(i++ > 0 ? ", " : "").append(e.getValue()).append(' ').append(e.getKey());
            }
            return sb.append(')').toString();
        }
    }

    private EmbeddingJob() {
    }

    static Output run(FaceEmbedder embedder, List<Path> files, int batch, PrintWriter progress)
            throws IOException, SphereKitException {
        return run(embedder, files, batch, progress, NoFace.FAIL);
    }

    /**
     * @param noFace with an aligning embedder, what to do with an image without a usable face; {@link NoFace#SKIP}
     *               also prints {@code skipped FILE: MESSAGE} on {@code progress} for each
     * @throws NoFaceException naming the file, with an aligning embedder and {@link NoFace#FAIL}
     */
    static Output run(FaceEmbedder embedder, List<Path> files, int batch, PrintWriter progress,
                      NoFace noFace) throws IOException, SphereKitException {
        return run(embedder, files, batch, progress, noFace, false);
    }

    /**
     * As {@link #run(FaceEmbedder, List, int, PrintWriter, NoFace)}.
     *
     * @param skipUnreadable leave out (reason {@code undecodable}) a file that cannot be decoded as an image,
     *                       instead of failing with its error
     */
    static Output run(FaceEmbedder embedder, List<Path> files, int batch, PrintWriter progress,
                      NoFace noFace, boolean skipUnreadable) throws IOException, SphereKitException {
        int n = files.size();
        Preprocessing pre = embedder.preprocessing();
        int size = pre.tensorSize();
        List<String> fallbacks = Collections.synchronizedList(new ArrayList<>());
        List<Skipped> skipped = Collections.synchronizedList(new ArrayList<>());
        float[][] out = new float[n][];
        long t0 = System.nanoTime();
        for (int start = 0; start < n; start += batch) {
            int end = Math.min(n, start + batch);
            float[] nchw = new float[(end - start) * size];
            boolean[] left = new boolean[end - start];
            int first = start;
            try {
                IntStream.range(start, end).parallel().forEach(i -> {
                    try {
                        BufferedImage img;
                        try {
                            img = Images.read(files.get(i));
                        } catch (IOException e) {
                            if (!skipUnreadable) {
                                throw e;
                            }
                            skipped.add(new Skipped(files.get(i), UNDECODABLE, e.getMessage()));
                            left[i - first] = true;
                            return;
                        }
                        byte[] hwc;
                        try {
                            hwc = embedder.preprocess(img, files.get(i).toString());
                        } catch (NoFaceException e) {
                            if (noFace == NoFace.FAIL) {
                                throw new Failed(e);
                            }
                            if (noFace == NoFace.SKIP) {
                                skipped.add(new Skipped(files.get(i), e.reason().text(), e.getMessage()));
                                left[i - first] = true;
                                return;
                            }
                            fallbacks.add(files.get(i).toString());
                            hwc = pre.cropResize(img);
                        }
                        pre.normalizeInto(hwc, false, nchw, (i - first) * size);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    } catch (SphereKitException e) {
                        throw new Failed(e);
                    }
                });
            } catch (UncheckedIOException e) {
                throw e.getCause();
            } catch (Failed e) {
                throw e.cause;
            }
            int kept = 0;
            for (boolean l : left) {
                kept += l ? 0 : 1;
            }
            if (kept > 0) {
                float[] packed = nchw;
                if (kept < left.length) { // the skipped images' slots are left out of the batch
                    packed = new float[kept * size];
                    for (int i = 0, k = 0; i < left.length; i++) {
                        if (!left[i]) {
                            System.arraycopy(nchw, i * size, packed, k++ * size, size);
                        }
                    }
                }
                float[][] e = embedder.embedTensor(packed, kept);
                for (int i = 0, k = 0; i < left.length; i++) {
                    if (!left[i]) {
                        out[start + i] = e[k++];
                    }
                }
            }
            if (progress != null) {
                double s = (System.nanoTime() - t0) / 1e9;
                progress.printf(Locale.ROOT, "\rembedding: %d/%d images (%.1f img/s)", end, n, end / s);
                progress.flush();
            }
        }
        if (progress != null && n > 0) {
            progress.println();
            progress.flush();
        }
        List<String> sorted = new ArrayList<>(fallbacks);
        Collections.sort(sorted);
        List<Skipped> sortedSkipped = new ArrayList<>(skipped);
        sortedSkipped.sort(Comparator.comparing(Skipped::file));
        if (progress != null) {
            for (Skipped s : sortedSkipped) {
                progress.println("skipped " + s.file() + ": " + s.message());
            }
            progress.flush();
        }
        return new Output(out, (System.nanoTime() - t0) / 1e9, sorted, sortedSkipped);
    }

    /** Carries a checked failure out of the parallel stream. */
    private static final class Failed extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient SphereKitException cause;

        Failed(SphereKitException cause) {
            super(cause.getMessage(), cause, false, false);
            this.cause = cause;
        }
    }
}
