package io.spherekit.spark;

import io.spherekit.index.HnswGallery;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link GalleryIndexBuilder} bulk-building the Lucene HNSW gallery ({@link HnswGallery#bulkBuilder}): the collected
 * embeddings are indexed on the driver with {@link HnswGallery.Options#threads()} indexing threads, merged to one
 * graph and moved into place in one rename, so the target folder is either the old gallery or the new one.
 *
 * <p>The index records the model id and the preprocessing of the embeddings Parquet (empty for a Parquet written
 * before EmbedJob recorded it, which {@code gallery search} and {@code serve} treat as "not checked").
 */
public final class HnswGalleryBuilder implements GalleryIndexBuilder {

    private final int dim;
    private final String modelId;
    private final String preprocessing;
    private final HnswGallery.Options options;
    private final List<HnswGallery.Entry> entries = new ArrayList<>();

    /**
     * @param dim      embedding dimension D
     * @param modelId  model id stored with the index
     * @param preprocessing preprocessing stored with the index (empty: not recorded)
     * @param encoding float32 or int7 (scalar-quantised graph, float32 kept for rescoring)
     */
    public HnswGalleryBuilder(int dim, String modelId, String preprocessing, HnswGallery.Encoding encoding) {
        this.dim = dim;
        this.modelId = modelId;
        this.preprocessing = preprocessing;
        this.options = HnswGallery.Options.defaults().withEncoding(encoding);
    }

    @Override
    public void add(String identity, float[] embedding) {
        if (identity == null || identity.isEmpty()) {
            throw new IllegalArgumentException("empty identity");
        }
        if (embedding.length != dim) {
            throw new IllegalArgumentException("embedding has " + embedding.length + " values, expected " + dim);
        }
        io.spherekit.core.Similarity.unit(embedding, "embedding"); // non-finite or zero-norm: refused here
        entries.add(new HnswGallery.Entry(identity, embedding.clone()));
    }

    @Override
    public int size() {
        return entries.size();
    }

    @Override
    public void write(Path target) throws IOException {
        if (entries.isEmpty()) {
            throw new IllegalStateException("no embeddings added");
        }
        try (HnswGallery.BulkBuilder b = HnswGallery.bulkBuilder(target, dim, modelId, preprocessing, options)) {
            b.addAll(entries);
            b.finish(true);
        }
    }
}
