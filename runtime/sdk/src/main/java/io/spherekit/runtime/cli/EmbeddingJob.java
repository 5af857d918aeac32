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
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

/** Embeds a list of image files in batches, decoding each batch in parallel, with a progress line. */
final class EmbeddingJob {

    /**
     * Embeddings in input order, the wall-clock seconds spent decoding + embedding, and (aligned mode with the
     * crop fallback) the images in which no usable face was found, embedded from the fixed crop instead.
     */
    record Output(float[][] embeddings, double seconds, List<String> cropFallbacks) {
        double imagesPerSecond() {
            return seconds > 0 ? embeddings.length / seconds : 0;
        }
    }

    private EmbeddingJob() {
    }

    static Output run(FaceEmbedder embedder, List<Path> files, int batch, PrintWriter progress)
            throws IOException, SphereKitException {
        return run(embedder, files, batch, progress, false);
    }

    /**
     * @param cropWhenNoFace with an aligning embedder: embed an image without a usable face from the fixed crop
     *                       and list it in {@link Output#cropFallbacks()}, instead of failing
     * @throws NoFaceException naming the file, with an aligning embedder and {@code cropWhenNoFace} false
     */
    static Output run(FaceEmbedder embedder, List<Path> files, int batch, PrintWriter progress,
                      boolean cropWhenNoFace) throws IOException, SphereKitException {
        int n = files.size();
        Preprocessing pre = embedder.preprocessing();
        int size = pre.tensorSize();
        List<String> fallbacks = Collections.synchronizedList(new ArrayList<>());
        float[][] out = new float[n][];
        long t0 = System.nanoTime();
        for (int start = 0; start < n; start += batch) {
            int end = Math.min(n, start + batch);
            float[] nchw = new float[(end - start) * size];
            int first = start;
            try {
                IntStream.range(start, end).parallel().forEach(i -> {
                    try {
                        BufferedImage img = Images.read(files.get(i));
                        byte[] hwc;
                        try {
                            hwc = embedder.preprocess(img, files.get(i).toString());
                        } catch (NoFaceException e) {
                            if (!cropWhenNoFace) {
                                throw new Failed(e);
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
            float[][] e = embedder.embedTensor(nchw, end - start);
            System.arraycopy(e, 0, out, start, e.length);
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
        return new Output(out, (System.nanoTime() - t0) / 1e9, sorted);
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
