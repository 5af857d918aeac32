package io.spherekit.runtime.cli;

import io.spherekit.core.cli.Cli;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spherekit.runtime.FaceEmbedder;
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
        description = "Write the embedding of each image to a JSON file.")
public final class EmbedCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--output", required = true, paramLabel = "OUT.json", description = "Output JSON file.")
    Path output;

    @Mixin
    BatchOption batchOption;

    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "Images to embed.")
    List<Path> images;

    @Override
    public Integer call() throws Exception {
        int batch = batchOption.validated(spec);
        try (FaceEmbedder embedder = modelOptions.open()) {
            EmbeddingJob.Output emb = EmbeddingJob.run(embedder, images, batch, spec.commandLine().getErr());
            ObjectNode j = JsonFiles.MAPPER.createObjectNode();
            j.put("model", modelOptions.model.toString());
            j.put("provider", embedder.provider().name());
            j.put("embedding_dim", embedder.embeddingDim());
            j.put("normalized", false);
            ArrayNode arr = j.putArray("embeddings");
            for (int i = 0; i < images.size(); i++) {
                ObjectNode o = arr.addObject();
                o.put("image", images.get(i).toString());
                ArrayNode v = o.putArray("embedding");
                for (float f : emb.embeddings()[i]) {
                    v.add(f);
                }
            }
            JsonFiles.writeAtomically(output, j);
            spec.commandLine().getOut().printf("wrote %d embeddings (%d-d) to %s%n", images.size(),
                    embedder.embeddingDim(), output);
            spec.commandLine().getOut().flush();
            return Cli.OK;
        }
    }
}
