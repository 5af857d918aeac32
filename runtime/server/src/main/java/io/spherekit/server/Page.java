package io.spherekit.server;

import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * The page a person uses at {@code GET /}: drop (or pick) two photos, see the detected face boxes and landmarks
 * drawn on each (or the fixed crop box when the server runs {@code --align crop}), the model-input crops, the
 * cosine, and the decision at the model's threshold with where that threshold came from. It calls
 * {@code GET /v1/model} and {@code POST /v1/inspect} ({@link Inspect}) and nothing else.
 *
 * <p>Plain HTML, CSS and JavaScript from the classpath ({@code io/spherekit/server/page/}), read once at start;
 * nothing is loaded from elsewhere. Every answer carries its content type with {@code charset=utf-8},
 * {@code X-Content-Type-Options: nosniff} and a Content-Security-Policy that allows only this server's own script,
 * style and API, and images from {@code blob:} (the photos, shown from the browser's memory, never uploaded twice)
 * and {@code data:} (the crops); the script writes every server text with {@code textContent}, never as HTML.
 */
final class Page {

    /** The page's Content-Security-Policy: own script, style and API only; no inline script, no framing. */
    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:;"
            + " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private record Asset(String contentType, byte[] bytes) {
    }

    /** Path → resource under {@code io/spherekit/server/page/}. */
    private static final Map<String, String[]> ROUTES = new LinkedHashMap<>();

    static {
        ROUTES.put("/", new String[] {"index.html", "text/html;charset=utf-8"});
        ROUTES.put("/page/page.css", new String[] {"page.css", "text/css;charset=utf-8"});
        ROUTES.put("/page/page.js", new String[] {"page.js", "text/javascript;charset=utf-8"});
    }

    private final Map<String, Asset> assets = new LinkedHashMap<>();
    private final BooleanSupplier stopping;

    /**
     * Reads the page's files from the classpath.
     *
     * @param stopping whether the server is stopping (answers then close their connection, as every other one)
     * @throws IllegalStateException if a file is missing from the classpath (a broken build)
     */
    Page(BooleanSupplier stopping) {
        this.stopping = stopping;
        for (Map.Entry<String, String[]> r : ROUTES.entrySet()) {
            String resource = "page/" + r.getValue()[0];
            try (InputStream in = Page.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("resource io/spherekit/server/" + resource
                            + " is missing from the classpath");
                }
                assets.put(r.getKey(), new Asset(r.getValue()[1], in.readAllBytes()));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read resource io/spherekit/server/" + resource, e);
            }
        }
    }

    /** @return the paths this page serves, for the 404 message */
    static String paths() {
        return String.join(", ", ROUTES.keySet());
    }

    /** Registers {@code GET} for each of the page's paths on {@code app}. */
    void install(Javalin app) {
        for (Map.Entry<String, Asset> a : assets.entrySet()) {
            Asset asset = a.getValue();
            app.get(a.getKey(), ctx -> write(ctx, asset));
        }
    }

    private void write(Context ctx, Asset a) {
        ctx.status(200);
        ctx.contentType(a.contentType);
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("Content-Security-Policy", CSP);
        ctx.header("Referrer-Policy", "no-referrer");
        ctx.header("Cache-Control", "no-cache");
        if (stopping.getAsBoolean()) {
            ctx.header("Connection", "close");
        }
        ctx.result(a.bytes);
    }
}
