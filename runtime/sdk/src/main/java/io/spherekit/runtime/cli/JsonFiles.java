package io.spherekit.runtime.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/** JSON reading and atomic writing for the CLI. */
final class JsonFiles {

    static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private JsonFiles() {
    }

    /**
     * Writes JSON atomically: a temporary file in the target's directory, then an {@code ATOMIC_MOVE} rename over
     * the target, so readers never see a half-written report.
     */
    static void writeAtomically(Path target, JsonNode json) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
        try {
            MAPPER.writeValue(tmp.toFile(), json);
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot write " + target + " atomically: the file system does not support"
                        + " atomic rename", e);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
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
