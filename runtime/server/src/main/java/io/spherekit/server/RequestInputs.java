package io.spherekit.server;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import jakarta.servlet.MultipartConfigElement;
import jakarta.servlet.http.Part;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.eclipse.jetty.server.MultiPartFormInputStream;

/**
 * The inputs of one request, read from a body of bounded size in one of three forms:
 * <ul>
 *   <li>{@code multipart/form-data}: each image is a part named after it ({@code a}, {@code b}, {@code image});
 *       other parts (e.g. {@code k}) are text fields;</li>
 *   <li>{@code application/json}: exactly one object (nothing but whitespace after it) whose image fields hold
 *       base64 strings (standard alphabet; line breaks and spaces are skipped, any other character outside the
 *       alphabet is an error; an optional {@code data:...;base64,} prefix is accepted) and whose other fields are
 *       numbers or strings;</li>
 *   <li>{@code image/*} or {@code application/octet-stream}: the raw bytes of a single image named {@code image}.</li>
 * </ul>
 */
final class RequestInputs {

    /** How many parts a multipart body may hold. */
    static final int MAX_PARTS = 16;

    private enum Kind { MULTIPART, JSON, RAW }

    private final Kind kind;
    private final Map<String, byte[]> parts;
    private final JsonNode json;

    private RequestInputs(Kind kind, Map<String, byte[]> parts, JsonNode json) {
        this.kind = kind;
        this.parts = parts;
        this.json = json;
    }

    /** The JSON reader for {@link #read}: trailing content after the object is an error. */
    static ObjectMapper jsonMapper() {
        // exactly one object, and no field given twice (the second would silently win)
        return JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    }

    /**
     * Parses a body that was read in full (see {@link BodyReader}).
     *
     * @param contentType the request's {@code Content-Type} header, or {@code null}
     * @param body        the body bytes
     * @param maxBytes    body size limit, for the multipart parser's part limits
     * @param mapper      JSON reader; {@link #jsonMapper()} rejects trailing content after the object
     * @throws ApiError 400 (empty or malformed body), 415 (unsupported content type)
     */
    static RequestInputs parse(String contentType, byte[] body, long maxBytes, ObjectMapper mapper) {
        String mime = contentType == null ? "" : contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        boolean multipart = mime.equals("multipart/form-data");
        boolean isJson = mime.equals("application/json") || mime.endsWith("+json");
        boolean raw = mime.startsWith("image/") || mime.equals("application/octet-stream");
        if (body.length == 0) {
            throw ApiError.badRequest("request body is empty: send multipart/form-data image parts, a JSON object"
                    + " with base64 image fields, or (for one image) the raw image bytes");
        }
        if (multipart) {
            return new RequestInputs(Kind.MULTIPART, multipart(body, contentType, maxBytes), null);
        }
        if (isJson) {
            JsonNode n;
            try {
                n = mapper.readTree(body);
            } catch (MismatchedInputException e) {
                // On a non-empty body, readTree fails this way only for FAIL_ON_TRAILING_TOKENS
                JsonLocation at = e.getLocation();
                throw ApiError.badRequest("request body must be exactly one JSON object, but more follows it"
                        + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr()));
            } catch (JsonProcessingException e) {
                throw ApiError.badRequest("request body is not valid JSON: " + e.getOriginalMessage());
            } catch (IOException e) {
                throw ApiError.badRequest("request body is not valid JSON: " + e.getMessage());
            }
            if (n == null || !n.isObject()) {
                throw ApiError.badRequest("request body must be a JSON object, found "
                        + (n == null ? "nothing" : n.getNodeType().toString().toLowerCase(Locale.ROOT)));
            }
            return new RequestInputs(Kind.JSON, Map.of(), n);
        }
        if (raw) {
            return new RequestInputs(Kind.RAW, Map.of("image", body), null);
        }
        throw new ApiError(415, "unsupported_media_type", "unsupported Content-Type '"
                + (contentType == null ? "" : contentType) + "': use multipart/form-data, application/json,"
                + " or image/* for a single raw image");
    }

    /** @return whether the body was a raw single image */
    boolean isRaw() {
        return kind == Kind.RAW;
    }

    /**
     * @param name  image name: a multipart part, a JSON field, or {@code image} for a raw body
     * @param usage what the endpoint expects, appended to the "missing" message
     * @return the encoded image bytes
     * @throws ApiError 400 if the image is missing, empty, or not valid base64 (the message names the field and, for
     *                  a character outside the alphabet, the character and its position)
     */
    byte[] image(String name, String usage) {
        byte[] b;
        if (kind == Kind.JSON) {
            JsonNode v = json.get(name);
            if (v == null || v.isNull()) {
                throw ApiError.badRequest("missing image field '" + name + "' (" + usage + ")");
            }
            if (!v.isTextual()) {
                throw ApiError.badRequest("field '" + name + "' must be a base64 string, found "
                        + v.getNodeType().toString().toLowerCase(Locale.ROOT));
            }
            b = base64(name, v.asText());
        } else {
            b = parts.get(name);
            if (b == null) {
                throw ApiError.badRequest("missing image part '" + name + "' (" + usage + ")");
            }
        }
        if (b.length == 0) {
            throw ApiError.badRequest("image '" + name + "' is empty (0 bytes)");
        }
        return b;
    }

    /**
     * @return a text field (multipart text part or JSON scalar), or {@code null} when absent
     */
    String field(String name) {
        if (kind == Kind.JSON) {
            JsonNode v = json.get(name);
            return v == null || v.isNull() || v.isContainerNode() ? null : v.asText();
        }
        byte[] b = parts.get(name);
        return b == null || kind == Kind.RAW ? null : new String(b, StandardCharsets.UTF_8).strip();
    }

    private static byte[] base64(String name, String s) {
        String t = s.strip();
        if (t.startsWith("data:")) {
            int comma = t.indexOf(',');
            if (comma < 0 || !t.substring(0, comma).endsWith(";base64")) {
                throw ApiError.badRequest("field '" + name + "' is a data URL without ';base64,'");
            }
            t = t.substring(comma + 1);
        }
        StringBuilder compact = new StringBuilder(t.length());
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c == '\r' || c == '\n' || c == ' ' || c == '\t') {
                continue; // line breaks of wrapped base64 (e.g. MIME, 76 columns)
            }
            if (!isBase64Char(c)) {
                throw ApiError.badRequest("field '" + name + "' is not valid base64: character "
                        + (c >= 0x21 && c < 0x7f ? "'" + c + "'" : String.format(Locale.ROOT, "U+%04X", (int) c))
                        + " at position " + i + " of the base64 text is not in the base64 alphabet"
                        + " (A-Z, a-z, 0-9, '+', '/', '=' padding)");
            }
            compact.append(c);
        }
        try {
            return Base64.getDecoder().decode(compact.toString());
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("field '" + name + "' is not valid base64: " + e.getMessage());
        }
    }

    private static boolean isBase64Char(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/'
                || c == '=';
    }

    private static Map<String, byte[]> multipart(byte[] body, String contentType, long maxBytes) {
        int threshold = (int) Math.min(Integer.MAX_VALUE, maxBytes + 1); // keep every part in memory
        MultipartConfigElement cfg = new MultipartConfigElement(null, maxBytes, maxBytes, threshold);
        MultiPartFormInputStream mp = new MultiPartFormInputStream(new ByteArrayInputStream(body), contentType, cfg,
                new File(System.getProperty("java.io.tmpdir")), MAX_PARTS);
        try {
            Collection<Part> all = mp.getParts();
            Map<String, byte[]> out = new HashMap<>();
            for (Part p : all) {
                String name = p.getName();
                if (name == null) {
                    continue;
                }
                try (InputStream in = p.getInputStream()) {
                    if (out.put(name, in.readAllBytes()) != null) {
                        throw ApiError.badRequest("multipart part '" + name + "' is given more than once");
                    }
                }
            }
            return out;
        } catch (IOException | IllegalStateException e) {
            throw ApiError.badRequest("malformed multipart/form-data body: " + e.getMessage());
        } finally {
            mp.deleteParts();
        }
    }
}
