package io.spherekit.runtime.cli;

import io.spherekit.core.cli.Cli;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spherekit.runtime.FaceEmbedder;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code spherekit embed --model m.onnx --output out.json images...}. */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = "Write the embedding of each image to a JSON file. With --align detect, images without a"
                + " usable face are skipped (listed under \"skipped\", with a count) unless --on-no-face fail.")
public final class EmbedCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--output", required = true, paramLabel = "OUT.json", description = "Output JSON file.")
    Path output;

    @Mixin
    BatchOption batchOption;

    @Mixin
    NoFaceOption noFaceOption;

    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "Images to embed.")
    List<Path> images;

    @Override
    public Integer call() throws Exception {
        int batch = batchOption.validated(spec);
        try (FaceEmbedder embedder = modelOptions.open()) {
            EmbeddingJob.Output emb = EmbeddingJob.run(embedder, images, batch, spec.commandLine().getErr(),
                    noFaceOption.mode(),
                    noFaceOption.skipUnreadable());
            ObjectNode j = JsonFiles.MAPPER.createObjectNode();
            j.put("model", modelOptions.model.toString());
            j.put("provider", embedder.provider().name());
            j.put("embedding_dim", embedder.embeddingDim());
            j.put("flip", embedder.flip().id());
            j.put("normalized", embedder.flip().needsMirror()); // a flip combination is L2-normalised; none is raw
            ArrayNode arr = j.putArray("embeddings");
            int written = 0;
            for (int i = 0; i < images.size(); i++) {
                if (emb.embeddings()[i] == null) {
                    continue; // skipped: listed under "skipped"
                }
                ObjectNode o = arr.addObject();
                o.put("image", images.get(i).toString());
                ArrayNode v = o.putArray("embedding");
                for (float f : emb.embeddings()[i]) {
                    v.add(f);
                }
                written++;
            }
            if (embedder.detector() != null) {
                j.put("skipped_count", emb.skipped().size());
                ObjectNode by = j.putObject("skipped_by_reason");
                emb.skippedByReason().forEach(by::put);
                ArrayNode sk = j.putArray("skipped");
                for (EmbeddingJob.Skipped s : emb.skipped()) {
                    ObjectNode o = sk.addObject();
                    o.put("image", s.file().toString());
                    o.put("reason", s.reason());
                    o.put("message", s.message());
                }
            }
            JsonFiles.writeAtomically(output, j);
            PrintWriter out = spec.commandLine().getOut();
            out.printf("wrote %d embeddings (%d-d) to %s%n", written, embedder.embeddingDim(), output);
            if (embedder.detector() != null) {
                out.printf("skipped: %s of %d images without a usable face%n", emb.skippedSummary(), images.size());
            }
            out.flush();
            return Cli.OK;
        }
    }
}
