package io.spherekit.spark;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where {@link GalleryJob} puts the collected embeddings: the exact gallery file ({@link ExactGalleryBuilder}) or the
 * Lucene HNSW index folder ({@link HnswGalleryBuilder}); another index plugs in by implementing this and registering
 * it in {@link #create}.
 *
 * <p>Contract: {@link #add} is called once per embedding in (identity, file) order, from one thread; then
 * {@link #write} once. Embeddings are raw (the builder normalises if it needs to).
 */
public interface GalleryIndexBuilder {

    /** The kinds {@link #create} knows. */
    java.util.List<String> KINDS = java.util.List.of("exact", "hnsw", "hnsw-int7");

    /**
     * @param identity  the person (label), non-empty
     * @param embedding raw embedding of length {@code dim}
     * @throws IllegalArgumentException if the label or embedding is invalid (wrong length, non-finite, zero norm)
     */
    void add(String identity, float[] embedding);

    /** @return number of embeddings added */
    int size();

    /**
     * Writes the gallery / index atomically.
     *
     * @throws IOException naming the target when it cannot be written
     * @throws IllegalStateException if nothing was added
     */
    void write(Path target) throws IOException;

    /**
     * @param kind    {@code exact}, {@code hnsw} (float32) or {@code hnsw-int7}
     * @param dim     embedding dimension D
     * @param modelId the model id recorded with the gallery
     * @param preprocessing the preprocessing recorded with the gallery
     *                      ({@code Galleries.preprocessingOf(FaceEmbedder)}; empty = not recorded)
     * @throws IllegalArgumentException for an unknown kind
     */
    static GalleryIndexBuilder create(String kind, int dim, String modelId, String preprocessing) {
        switch (kind) {
            case "exact":
                return new ExactGalleryBuilder(dim, modelId, preprocessing);
            case "hnsw":
                return new HnswGalleryBuilder(dim, modelId, preprocessing,
                        io.spherekit.index.HnswGallery.Encoding.FLOAT32);
            case "hnsw-int7":
                return new HnswGalleryBuilder(dim, modelId, preprocessing,
                        io.spherekit.index.HnswGallery.Encoding.INT7);
            default:
                throw new IllegalArgumentException("unknown gallery kind '" + kind + "' (known: exact, hnsw, hnsw-int7)");
        }
    }
}
