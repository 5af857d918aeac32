package io.spherekit.runtime;

/**
 * The outcome of comparing two faces.
 *
 * @param score     cosine similarity of the two embeddings, in [-1, 1]
 * @param same      {@code score >= threshold}: judged to be the same person
 * @param threshold the decision threshold used (a cosine value)
 */
public record Verification(double score, boolean same, double threshold) {
}
