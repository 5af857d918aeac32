package io.spherekit.server;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keeps server-local absolute paths out of what the service shows to clients ({@code GET /v1/model}, the model id
 * in every answer): each absolute path in a text is replaced by its last element, the file name.
 *
 * <p>An absolute path is a run of characters other than whitespace, quotes, brackets, {@code ,;:|<>} that starts
 * with {@code /} (POSIX), {@code X:\} (Windows) or {@code file:/} and is not preceded by a letter, digit,
 * {@code . ~ / : -} (so relative paths such as {@code data/lfw}, ratios such as {@code 1/2} and URLs such as
 * {@code http://host/x} are left alone). Examples: {@code "/data/lfw people=p.txt"} → {@code "lfw people=p.txt"};
 * {@code "failed to load /opt/ort/libx.so: no such file"} → {@code "failed to load libx.so: no such file"}.
 */
final class LocalPaths {

    private static final Pattern ABSOLUTE = Pattern.compile(
            "(?<![\\w.~/:-])(?:file:/+|[A-Za-z]:\\\\|/)[^\\s'\"`<>|,;:()\\[\\]{}]*");

    private LocalPaths() {
    }

    /** @return {@code text} with every absolute path replaced by its file name; {@code null} stays {@code null} */
    static String toFileNames(String text) {
        if (text == null || (text.indexOf('/') < 0 && text.indexOf('\\') < 0)) {
            return text;
        }
        Matcher m = ABSOLUTE.matcher(text);
        StringBuilder out = new StringBuilder(text.length());
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(fileName(m.group())));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String fileName(String path) {
        String p = path;
        while (p.length() > 1 && (p.endsWith("/") || p.endsWith("\\"))) {
            p = p.substring(0, p.length() - 1);
        }
        int cut = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
        String name = p.substring(cut + 1);
        return name.isEmpty() ? path : name;
    }
}
