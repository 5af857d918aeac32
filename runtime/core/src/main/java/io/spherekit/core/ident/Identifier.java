package io.spherekit.core.ident;

import java.util.List;
import java.util.Objects;

/**
 * 1:N identification over a gallery of enrolled identities, each holding one or more face embeddings.
 *
 * <p>Two implementations: the exact in-memory scan {@code io.spherekit.runtime.Gallery} (the reference, right for
 * galleries up to some 100k embeddings) and the approximate HNSW index {@code io.spherekit.index.HnswGallery}
 * (Apache Lucene, on disk, for millions). Both score an identity by the best cosine similarity between the query
 * and any of its embeddings, {@code score(l) = max_{e ∈ l} cos(q, e)}, in [-1, 1].
 *
 * <p><b>Closed-set</b> identification is {@link #search}: the {@code k} best identities with their scores
 * (rank-1 = the first). <b>Open-set</b> identification is {@link #identify}: the probe is accepted as the best
 * identity when its score reaches the threshold, otherwise it is rejected as unknown (not enrolled); a threshold
 * chosen for a false-alarm rate on impostor probes gives DIR@FAR (detection and identification rate).
 *
 * <p>Implementations are thread-safe for searches.
 */
public interface Identifier {

    /**
     * One identification hit.
     *
     * @param label the identity
     * @param score best cosine similarity between the query and the identity's embeddings, in [-1, 1]
     */
    record Match(String label, double score) {
        public Match {
            Objects.requireNonNull(label, "label");
        }
    }

    /**
     * An open-set decision.
     *
     * @param known     whether the best identity's score reached the threshold
     * @param label     the accepted identity, or {@code null} when the probe is rejected as unknown
     * @param best      the best match whether accepted or not ({@code null} only when the gallery is empty)
     * @param threshold the cosine threshold applied
     */
    record Decision(boolean known, String label, Match best, double threshold) {
        /** @return the accepted label, or {@code "unknown"} */
        public String labelOrUnknown() {
            return known ? label : "unknown";
        }
    }

    /** @return D, the length of every embedding (and of a query) */
    int dim();

    /** @return the id of the model that produced the enrolled embeddings; empty when unknown */
    String modelId();

    /** @return number of distinct identities enrolled */
    int identityCount();

    /** @return number of enrolled embeddings (an identity may hold several) */
    long embeddingCount();

    /**
     * The {@code k} identities most similar to the query, best first.
     *
     * @param query raw embedding of length {@link #dim()} (L2-normalised by the implementation)
     * @param k     number of identities wanted, {@code >= 1}; fewer are returned when fewer are enrolled
     * @return at most {@code k} matches, one per identity, scores non-increasing
     * @throws IllegalArgumentException if {@code k < 1}, the query length is not {@link #dim()}, or the query has
     *                                  zero norm or non-finite values
     */
    List<Match> search(float[] query, int k);

    /**
     * Open-set identification: the best identity if its score is {@code >= threshold}, else unknown.
     *
     * @param query     raw embedding of length {@link #dim()}
     * @param threshold cosine threshold in [-1, 1]
     * @throws IllegalArgumentException as {@link #search}, or if the threshold is outside [-1, 1] or NaN
     */
    default Decision identify(float[] query, double threshold) {
        if (!(threshold >= -1 && threshold <= 1)) {
            throw new IllegalArgumentException("threshold must be a cosine in [-1, 1], got " + threshold);
        }
        List<Match> top = search(query, 1);
        if (top.isEmpty()) {
            return new Decision(false, null, null, threshold);
        }
        Match best = top.get(0);
        boolean known = best.score() >= threshold;
        return new Decision(known, known ? best.label() : null, best, threshold);
    }
}
