package io.spherekit.runtime.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.spherekit.core.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** JSON reading and atomic writing for the CLI. */
final class JsonFiles {

    static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private JsonFiles() {
    }

    /**
     * Writes JSON atomically ({@link AtomicFiles}), creating the target's folder if needed, so readers never see a
     * half-written report.
     *
     * @throws IOException naming the target when it cannot be written
     */
    static void writeAtomically(Path target, JsonNode json) throws IOException {
        Files.createDirectories(target.toAbsolutePath().getParent());
        AtomicFiles.write(target, out -> MAPPER.writeValue(out, json));
    }

    /** Reads a file that must hold one JSON object. */
    static JsonNode readObject(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("JSON file " + file + " does not exist");
        }
        JsonNode n;
        try {
            n = MAPPER.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IOException("JSON file " + file + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (n == null || !n.isObject()) {
            throw new IOException("JSON file " + file + " must hold a JSON object, found "
                    + (n == null ? "nothing" : n.getNodeType().toString().toLowerCase(Locale.ROOT)));
        }
        return n;
    }
}
