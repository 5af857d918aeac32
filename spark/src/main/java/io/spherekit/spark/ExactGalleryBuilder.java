package io.spherekit.spark;

import io.spherekit.runtime.Gallery;
import java.io.IOException;
import java.nio.file.Path;

/** {@link GalleryIndexBuilder} writing the exact-scan {@link Gallery} file format via its public API. */
public final class ExactGalleryBuilder implements GalleryIndexBuilder {

    private final Gallery.Builder builder;

    /**
     * @param dim     embedding dimension D, in [1, {@value Gallery#MAX_DIM}]
     * @param modelId the model id stored in the gallery (may be empty)
     * @param preprocessing the preprocessing stored in the gallery (may be empty: not recorded)
     */
    public ExactGalleryBuilder(int dim, String modelId, String preprocessing) {
        this.builder = Gallery.builder(dim).optModelId(modelId).optPreprocessing(preprocessing);
    }

    @Override
    public void add(String identity, float[] embedding) {
        builder.add(identity, embedding);
    }

    @Override
    public int size() {
        return builder.size();
    }

    @Override
    public void write(Path target) throws IOException {
        if (builder.size() == 0) {
            throw new IllegalStateException("no embeddings added");
        }
        builder.build().save(target);
    }
}
