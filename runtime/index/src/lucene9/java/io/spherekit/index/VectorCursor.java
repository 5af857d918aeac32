package io.spherekit.index;

import java.io.IOException;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.LeafReader;

/**
 * Forward-only reader of one segment's float32 vectors by document id: the Lucene 9.12 form, where
 * {@link FloatVectorValues} is itself the document iterator (Lucene 10 splits it into an iterator and ordinals; see
 * {@code src/lucene10}). Not thread-safe; documents must be asked for in increasing order.
 */
final class VectorCursor {
    private final FloatVectorValues values;

    /**
     * @param reader a segment reader
     * @param field the vector field
     * @throws IOException if the segment cannot be read
     */
    VectorCursor(LeafReader reader, String field) throws IOException {
        this.values = reader.getFloatVectorValues(field);
    }

    /**
     * @param doc segment-local document id, not smaller than the previous call's
     * @return the stored (un-quantised) vector of {@code doc}, valid until the next call, or null if it has none
     * @throws IOException if the segment cannot be read
     */
    float[] vector(int doc) throws IOException {
        if (values == null) {
            return null;
        }
        if (values.docID() < doc) {
            values.advance(doc);
        }
        return values.docID() == doc ? values.vectorValue() : null;
    }
}
