package io.spherekit.runtime.cli;

import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.core.Images;
import io.spherekit.core.SphereKitException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

/** Embeds a list of image files in batches, decoding each batch in parallel, with a progress line. */
final class EmbeddingJob {

    /** Embeddings in input order, and the wall-clock seconds spent decoding + embedding. */
    record Output(float[][] embeddings, double seconds) {
        double imagesPerSecond() {
            return seconds > 0 ? embeddings.length / seconds : 0;
        }
    }

    private EmbeddingJob() {
    }

    static Output run(FaceEmbedder embedder, List<Path> files, int batch, PrintWriter progress)
            throws IOException, SphereKitException {
        int n = files.size();
        float[][] out = new float[n][];
        long t0 = System.nanoTime();
        for (int start = 0; start < n; start += batch) {
            int end = Math.min(n, start + batch);
            BufferedImage[] imgs = new BufferedImage[end - start];
            int first = start;
            try {
                IntStream.range(start, end).parallel().forEach(i -> {
                    try {
                        imgs[i - first] = Images.read(files.get(i));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
            float[][] e = embedder.embed(List.of(imgs));
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
        return new Output(out, (System.nanoTime() - t0) / 1e9);
    }
}
