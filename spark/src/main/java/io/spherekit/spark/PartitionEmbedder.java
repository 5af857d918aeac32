package io.spherekit.spark;

import io.spherekit.core.Images;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.SphereKitException;
import io.spherekit.runtime.FaceDetector;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.NoFaceException;
import java.awt.image.BufferedImage;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/**
 * The body of the jobs' {@code mapPartitions}: reads, decodes, detects/aligns (or crops) and embeds the files of one
 * partition in batches of {@code batch} through the executor JVM's shared {@link FaceEmbedder}
 * ({@link EmbedderHolder}), lazily, one batch in memory at a time.
 *
 * <p>Per image it does what the local commands do ({@code FaceEmbedder#prepare}, then
 * {@link Preprocessing#normalizeInto} into one NCHW batch and {@link FaceEmbedder#embedTensor}); a file that cannot
 * be read or decoded, or (aligned mode) has no usable face, becomes a row with its status and reason instead of
 * failing the task.
 */
public final class PartitionEmbedder {

    /** What to do with an image without a usable face (aligned mode; in either mode, uniform pixels). */
    public enum NoFace {
        /** Record it with its reason, without an embedding ({@code embed}). */
        RECORD,
        /** Embed it from the fixed crop, status {@link ImageEmbedding#CROP_FALLBACK} ({@code evaluate}). */
        CROP
    }

    /** Largest file read into memory: 256 MiB (an image above it is recorded as {@link ImageEmbedding#UNDECODABLE}). */
    static final long MAX_FILE_BYTES = 256L << 20;

    private static Configuration conf;

    private PartitionEmbedder() {
    }

    /** The executor JVM's Hadoop configuration (core-site.xml etc. from its class path), read once. */
    private static synchronized Configuration hadoopConf() {
        if (conf == null) {
            conf = new Configuration();
        }
        return conf;
    }

    /**
     * @param files  the partition's files (paths or URIs; Hadoop resolves them, so {@code file:}, {@code hdfs:},
     *               {@code s3a:} all work)
     * @param spec   the embedder, opened once per JVM
     * @param batch  images per inference call, {@code >= 1}
     * @param noFace what to do with an image without a usable face
     * @return one result per input file, in input order
     * @throws IllegalArgumentException if {@code batch < 1}
     */
    public static Iterator<ImageEmbedding> embed(Iterator<String> files, EmbedderSpec spec, int batch, NoFace noFace) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        }
        return new Iterator<>() {
            private final Configuration conf = hadoopConf();
            private final List<ImageEmbedding> ready = new ArrayList<>();
            private int next;

            @Override
            public boolean hasNext() {
                if (next < ready.size()) {
                    return true;
                }
                if (!files.hasNext()) {
                    return false;
                }
                List<String> chunk = new ArrayList<>(batch);
                while (chunk.size() < batch && files.hasNext()) {
                    chunk.add(files.next());
                }
                ready.clear();
                next = 0;
                try {
                    ready.addAll(embedBatch(EmbedderHolder.get(spec), chunk, noFace, conf));
                } catch (SphereKitException e) {
                    throw new IllegalStateException(e.getMessage(), e); // model / inference failure: the task fails
                }
                return true;
            }

            @Override
            public ImageEmbedding next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.get(next++);
            }
        };
    }

    /** Embeds one batch; see {@link #embed}. */
    static List<ImageEmbedding> embedBatch(FaceEmbedder embedder, List<String> files, NoFace noFace,
                                           Configuration conf) throws SphereKitException {
        Preprocessing pre = embedder.preprocessing();
        int size = pre.tensorSize();
        int n = files.size();
        ImageEmbedding[] out = new ImageEmbedding[n];
        double[][] boxes = new double[n][];
        String[] status = new String[n];
        String[] reason = new String[n];
        float[] nchw = new float[n * size];
        int[] slot = new int[n];
        int kept = 0;
        for (int i = 0; i < n; i++) {
            String file = files.get(i);
            BufferedImage img;
            try {
                img = Images.read(read(file, conf), file, Images.DEFAULT_MAX_PIXELS);
            } catch (Unreadable e) {
                out[i] = new ImageEmbedding(file, ImageEmbedding.UNREADABLE, e.getMessage(), null, null);
                continue;
            } catch (IOException e) {
                out[i] = new ImageEmbedding(file, ImageEmbedding.UNDECODABLE, e.getMessage(), null, null);
                continue;
            }
            byte[] hwc;
            try {
                FaceEmbedder.Prepared p = embedder.prepare(img, file);
                hwc = p.pixels();
                boxes[i] = box(p.face());
                status[i] = ImageEmbedding.OK;
            } catch (NoFaceException e) {
                if (noFace == NoFace.RECORD) {
                    out[i] = new ImageEmbedding(file, e.reason().name().toLowerCase(Locale.ROOT), e.getMessage(),
                            null, null);
                    continue;
                }
                hwc = pre.cropResize(img);
                status[i] = ImageEmbedding.CROP_FALLBACK;
                reason[i] = e.getMessage();
            }
            pre.normalizeInto(hwc, false, nchw, kept * size);
            slot[kept++] = i;
        }
        if (kept > 0) {
            float[] packed = kept == n ? nchw : Arrays.copyOf(nchw, kept * size);
            float[][] e = embedder.embedTensor(packed, kept);
            for (int k = 0; k < kept; k++) {
                int i = slot[k];
                out[i] = new ImageEmbedding(files.get(i), status[i], reason[i], boxes[i], e[k]);
            }
        }
        return List.of(out);
    }

    private static double[] box(FaceDetector.Face f) {
        return f == null ? null : new double[] {f.x(), f.y(), f.width(), f.height()};
    }

    /** A file that could not be read at all (as opposed to read but not decoded). */
    private static final class Unreadable extends IOException {
        private static final long serialVersionUID = 1L;

        Unreadable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static byte[] read(String file, Configuration conf) throws IOException {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(file);
        FileSystem fs;
        long len;
        try {
            fs = p.getFileSystem(conf);
            len = fs.getFileStatus(p).getLen();
        } catch (FileNotFoundException e) {
            throw new Unreadable("cannot read image " + file + ": file does not exist", e);
        } catch (IOException | IllegalArgumentException e) {
            throw new Unreadable("cannot read image " + file + ": " + e.getMessage(), e);
        }
        if (len > MAX_FILE_BYTES) {
            throw new IOException("cannot read image " + file + ": " + len + " bytes, more than the "
                    + MAX_FILE_BYTES + " accepted");
        }
        try (InputStream in = fs.open(p)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new Unreadable("cannot read image " + file + ": " + e.getMessage(), e);
        }
    }
}
