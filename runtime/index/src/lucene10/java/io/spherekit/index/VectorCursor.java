package io.spherekit.index;

import java.io.IOException;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.KnnVectorValues;
import org.apache.lucene.index.LeafReader;

/**
 * Forward-only reader of one segment's float32 vectors by document id: the Lucene 10 form, where
 * {@link FloatVectorValues} is read by ordinal through a {@link KnnVectorValues.DocIndexIterator} (Lucene 9.12's
 * form is in {@code src/lucene9}). Not thread-safe; documents must be asked for in increasing order.
 */
final class VectorCursor {
    private final FloatVectorValues values;
    private final KnnVectorValues.DocIndexIterator it;

    /**
     * @param reader a segment reader
     * @param field the vector field
     * @throws IOException if the segment cannot be read
     */
    VectorCursor(LeafReader reader, String field) throws IOException {
        this.values = reader.getFloatVectorValues(field);
        this.it = values == null ? null : values.iterator();
    }

    /**
     * @param doc segment-local document id, not smaller than the previous call's
     * @return the stored (un-quantised) vector of {@code doc}, valid until the next call, or null if it has none
     * @throws IOException if the segment cannot be read
     */
    float[] vector(int doc) throws IOException {
        if (it == null) {
            return null;
        }
        if (it.docID() < doc) {
            it.advance(doc);
        }
        return it.docID() == doc ? values.vectorValue(it.index()) : null;
    }
}
