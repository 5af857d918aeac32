package io.spherekit.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.spherekit.core.Images;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.Similarity;
import io.spherekit.core.align.AlignmentTemplate;
import io.spherekit.runtime.FaceDetector;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.server.PageFixtures.Reply;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /v1/inspect} and the page's files on real servers (detect and crop), with real LFW photos: the boxes,
 * landmarks and crops it reports are what an independent SDK pipeline computes, and its cosine is
 * {@code /v1/verify}'s.
 */
class InspectEndpointTest {

    static final String DATA_PNG = "data:image/png;base64,";

    @TempDir
    static Path dir;
    static Path model;
    static FaceServer detect;
    static FaceServer crop;
    /** The same model and detector, outside any server: the independent reference. */
    static FaceEmbedder sdk;
    static FaceEmbedder sdkCrop;
    static byte[] blair1;
    static byte[] blair2;
    static byte[] serena1;
    static byte[] grey;

    @BeforeAll
    static void setUp() throws Exception {
        model = PageFixtures.model(dir);
        detect = PageFixtures.server(model, true, FaceServer.DEFAULT_MAX_BODY_BYTES);
        crop = PageFixtures.server(model, false, FaceServer.DEFAULT_MAX_BODY_BYTES);
        sdk = PageFixtures.embedder(model, true);
        sdkCrop = PageFixtures.embedder(model, false);
        blair1 = Files.readAllBytes(PageFixtures.BLAIR_1);
        blair2 = Files.readAllBytes(PageFixtures.BLAIR_2);
        serena1 = Files.readAllBytes(PageFixtures.SERENA_1);
        BufferedImage g = new BufferedImage(250, 250, BufferedImage.TYPE_INT_RGB);
        Graphics2D gr = g.createGraphics();
        gr.setColor(new Color(128, 128, 128));
        gr.fillRect(0, 0, 250, 250);
        gr.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(g, "png", out);
        grey = out.toByteArray();
    }

    @AfterAll
    static void tearDown() {
        for (AutoCloseable c : new AutoCloseable[] {detect, crop, sdk, sdkCrop}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // best effort
            }
        }
    }

    static BufferedImage decode(byte[] b) throws Exception {
        return Images.read(b, "test image", FaceServer.DEFAULT_MAX_PIXELS);
    }

    /** @return the crop's PNG, decoded, after checking its data URL prefix */
    static BufferedImage cropImage(JsonNode image) throws Exception {
        String url = image.get("crop").asText();
        assertTrue(url.startsWith(DATA_PNG), url.substring(0, Math.min(40, url.length())));
        byte[] png = Base64.getDecoder().decode(url.substring(DATA_PNG.length()));
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(png, 4));
        return ImageIO.read(new ByteArrayInputStream(png));
    }

    /** @return the RGB bytes, HWC, of a decoded crop (as {@link FaceEmbedder#preprocess} returns them) */
    static byte[] hwc(BufferedImage img) {
        byte[] out = new byte[img.getWidth() * img.getHeight() * 3];
        for (int y = 0, i = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int p = img.getRGB(x, y);
                out[i++] = (byte) (p >> 16);
                out[i++] = (byte) (p >> 8);
                out[i++] = (byte) p;
            }
        }
        return out;
    }

    static void assertInside(JsonNode box, JsonNode point, String what) {
        double x = point.get(0).asDouble();
        double y = point.get(1).asDouble();
        double bx = box.get("x").asDouble();
        double by = box.get("y").asDouble();
        assertTrue(x >= bx && x <= bx + box.get("width").asDouble() && y >= by
                && y <= by + box.get("height").asDouble(), what + " " + point + " outside the box " + box);
    }

    static void assertFace(JsonNode face, FaceDetector.Face expected) {
        JsonNode box = face.get("box");
        assertEquals(expected.x(), box.get("x").asDouble(), 0);
        assertEquals(expected.y(), box.get("y").asDouble(), 0);
        assertEquals(expected.width(), box.get("width").asDouble(), 0);
        assertEquals(expected.height(), box.get("height").asDouble(), 0);
        assertEquals(expected.score(), (float) face.get("score").asDouble(), 0);
        assertEquals(6, face.get("landmarks").size());
        for (int k = 0; k < 6; k++) {
            assertEquals(expected.landmarks()[k][0], face.get("landmarks").get(k).get(0).asDouble(), 0);
            assertEquals(expected.landmarks()[k][1], face.get("landmarks").get(k).get(1).asDouble(), 0);
        }
    }

    /**
     * Checks one pair on the detecting server: every reported face and the face used are what {@link FaceDetector}
     * finds on its own, eyes, nose and mouth lie inside the box, the crop is the model's input size and exactly the
     * aligned pixels the SDK embeds, and score and decision are those of {@code /v1/verify}.
     */
    void checkDetectPair(byte[] a, byte[] b) throws Exception {
        Reply r = PageFixtures.postPair(detect, "/v1/inspect", a, b);
        assertEquals(200, r.status(), String.valueOf(r.json()));
        assertEquals("application/json", r.header("Content-Type"));
        JsonNode j = r.json();
        Reply v = PageFixtures.postPair(detect, "/v1/verify", a, b);
        assertEquals(200, v.status(), String.valueOf(v.json()));
        assertEquals(v.json().get("score").asDouble(), j.get("score").asDouble(), 0.0, "cosine = /v1/verify's");
        assertEquals(v.json().get("same").asBoolean(), j.get("same").asBoolean());
        assertEquals(PageFixtures.THRESHOLD, j.get("threshold").asDouble(), 0);
        assertEquals("model metadata spherekit.threshold", j.get("threshold_source").asText());
        assertEquals(PageFixtures.THRESHOLD_SOURCE, j.get("threshold_detail").asText());
        assertEquals(v.json().get("model_id").asText(), j.get("model_id").asText());
        assertEquals("detect", j.get("align").asText());
        assertEquals(AlignmentTemplate.SPHEREFACE.name(), j.get("template").asText());
        assertEquals(112, j.at("/input/height").asInt());
        assertEquals(96, j.at("/input/width").asInt());
        assertEquals(Inspect.LANDMARK_NAMES.size(), j.get("landmark_names").size());

        FaceDetector detector = sdk.detector();
        float[][] embeddings = new float[2][];
        byte[][] inputs = {a, b};
        for (int i = 0; i < 2; i++) {
            JsonNode im = j.get("images").get(i);
            assertEquals(i == 0 ? "a" : "b", im.get("part").asText());
            BufferedImage src = ImageIO.read(new ByteArrayInputStream(inputs[i]));
            assertEquals(src.getWidth(), im.get("width").asInt());
            assertEquals(src.getHeight(), im.get("height").asInt());
            BufferedImage img = decode(inputs[i]);
            List<FaceDetector.Face> faces = detector.detect(img);
            assertFalse(faces.isEmpty());
            assertEquals(faces.size(), im.get("faces").size());
            for (int k = 0; k < faces.size(); k++) {
                assertFace(im.get("faces").get(k), faces.get(k));
            }
            FaceDetector.Face used = detector.detectLargest(img, "x");
            JsonNode u = im.get("face_used");
            assertEquals(0, u.get("index").asInt());
            assertFace(u, used);
            assertTrue(im.get("crop_box").isNull());
            for (JsonNode f : List.of(u, im.get("faces").get(0))) {
                for (int k = 0; k < 4; k++) { // eyes, nose tip, mouth centre: the alignment points
                    assertInside(f.get("box"), f.get("landmarks").get(k), Inspect.LANDMARK_NAMES.get(k));
                }
            }
            // a deep-funneled LFW photo: the face is centred and about 100-120 px wide
            double cx = u.at("/box/x").asDouble() + u.at("/box/width").asDouble() / 2;
            double cy = u.at("/box/y").asDouble() + u.at("/box/height").asDouble() / 2;
            assertEquals(125, cx, 25, "box centre x");
            assertEquals(125, cy, 30, "box centre y");
            assertEquals(110, u.at("/box/width").asDouble(), 40, "box width");

            BufferedImage c = cropImage(im);
            assertEquals(96, c.getWidth(), "crop width = model input width");
            assertEquals(112, c.getHeight(), "crop height = model input height");
            byte[] expected = sdk.preprocess(img, "x");
            assertArrayEquals(expected, hwc(c), "the crop is exactly the aligned face the SDK embeds");
            embeddings[i] = sdk.embed(img, "x");
        }
        // the cosine of the SDK's own embeddings of the two photos (independent of the server's batch of 2)
        assertEquals(Similarity.cosine(embeddings[0], embeddings[1]), j.get("score").asDouble(), 1e-6);
    }

    @Test
    void samePersonDetectedAlignedAndScoredAsVerify() throws Exception {
        checkDetectPair(blair1, blair2);
    }

    @Test
    void differentPeopleDetectedAlignedAndScoredAsVerify() throws Exception {
        checkDetectPair(blair1, serena1);
    }

    @Test
    void fixedCropServerReportsTheCropBoxNotDetections() throws Exception {
        Reply r = PageFixtures.postPair(crop, "/v1/inspect", blair1, serena1);
        assertEquals(200, r.status(), String.valueOf(r.json()));
        JsonNode j = r.json();
        Reply v = PageFixtures.postPair(crop, "/v1/verify", blair1, serena1);
        assertEquals(v.json().get("score").asDouble(), j.get("score").asDouble(), 0.0);
        assertEquals(v.json().get("same").asBoolean(), j.get("same").asBoolean());
        assertEquals("crop", j.get("align").asText());
        assertTrue(j.get("template").isNull());
        Preprocessing p = Preprocessing.LFW_SPHEREFACE;
        byte[][] inputs = {blair1, serena1};
        for (int i = 0; i < 2; i++) {
            JsonNode im = j.get("images").get(i);
            assertEquals(0, im.get("faces").size());
            assertTrue(im.get("face_used").isNull());
            JsonNode box = im.get("crop_box");
            // the fixed LFW box: 114x133 at (67, 52) of a 250x250 photo (Preprocessing.LFW_SPHEREFACE)
            assertEquals(67, box.get("x").asDouble(), 0.5);
            assertEquals(52, box.get("y").asDouble(), 0.5);
            assertEquals(114, box.get("width").asDouble(), 0.5);
            assertEquals(133, box.get("height").asDouble(), 0.5);
            assertEquals(p.cropLeft() * 250, box.get("x").asDouble(), 1e-9);
            BufferedImage c = cropImage(im);
            assertEquals(96, c.getWidth());
            assertEquals(112, c.getHeight());
            assertArrayEquals(p.cropResize(decode(inputs[i])), hwc(c), "the crop is the fixed crop");
        }
        assertEquals(Similarity.cosine(sdkCrop.embed(decode(blair1)), sdkCrop.embed(decode(serena1))),
                j.get("score").asDouble(), 1e-6);
    }

    @Test
    void aFacelessPhotoIsNamedWithTheStableCode() throws Exception {
        Reply r = PageFixtures.postPair(detect, "/v1/inspect", blair1, grey);
        assertEquals(422, r.status());
        assertEquals("no_face", r.json().get("code").asText());
        assertTrue(r.json().get("message").asText().startsWith("no face found in 'b' (250x250"),
                r.json().toString());
        r = PageFixtures.postPair(detect, "/v1/inspect", "not an image".getBytes(StandardCharsets.UTF_8), blair1);
        assertEquals(422, r.status());
        assertEquals("invalid_image", r.json().get("code").asText());
        assertTrue(r.json().get("message").asText().startsWith("cannot read image 'a'"), r.json().toString());
    }

    @Test
    void badRequestsGetTheVerifyErrors() throws Exception {
        Reply raw = PageFixtures.post(detect, "/v1/inspect", "image/jpeg", blair1);
        assertEquals(415, raw.status());
        assertEquals("unsupported_media_type", raw.json().get("code").asText());
        Reply one = PageFixtures.post(detect, "/v1/inspect", "application/json",
                ("{\"a\": \"" + Base64.getEncoder().encodeToString(blair1) + "\"}").getBytes(StandardCharsets.UTF_8));
        assertEquals(400, one.status());
        assertEquals("bad_request", one.json().get("code").asText());
        assertTrue(one.json().get("message").asText().contains("missing image field 'b'"), one.json().toString());
        Reply get = PageFixtures.get(detect, "/v1/inspect");
        assertEquals(405, get.status());
        assertEquals("method_not_allowed", get.json().get("code").asText());
    }

    @Test
    void theBodyLimitAppliesToInspect() throws Exception {
        long limit = blair1.length + 1000; // one photo fits, two do not
        try (FaceServer small = PageFixtures.server(model, true, limit)) {
            Reply r = PageFixtures.postPair(small, "/v1/inspect", blair1, blair2);
            assertEquals(413, r.status());
            assertEquals("payload_too_large", r.json().get("code").asText());
            assertTrue(r.json().get("message").asText().contains("the limit is " + limit + " bytes"),
                    r.json().toString());
            Reply m = PageFixtures.get(small, "/v1/model");
            assertEquals(limit, m.json().at("/limits/max_body_bytes").asLong(), "the page reads the limit here");
        }
    }

    @Test
    void thePageIsServedWithItsContentTypesAndAStrictPolicy() throws Exception {
        Reply html = PageFixtures.get(detect, "/");
        assertEquals(200, html.status());
        assertEquals("text/html;charset=utf-8", html.header("Content-Type").toLowerCase(Locale.ROOT));
        assertEquals("nosniff", html.header("X-Content-Type-Options"));
        assertEquals(Page.CSP, html.header("Content-Security-Policy"));
        assertTrue(html.header("Content-Security-Policy").contains("script-src 'self'"));
        String page = html.text();
        assertTrue(page.contains("<script src=\"/page/page.js\" defer></script>"), page);
        assertTrue(page.contains("<link rel=\"stylesheet\" href=\"/page/page.css\">"), page);
        assertFalse(page.contains("http://") || page.contains("https://") || page.contains("//cdn"),
                "the page loads nothing from elsewhere");
        assertFalse(page.contains("<script>"), "no inline script (the policy would block it)");

        Reply js = PageFixtures.get(detect, "/page/page.js");
        assertEquals(200, js.status());
        assertEquals("text/javascript;charset=utf-8", js.header("Content-Type").toLowerCase(Locale.ROOT));
        String script = js.text();
        assertTrue(script.contains("fetch('/v1/inspect'"), "the page calls the inspect endpoint");
        for (String sink : new String[] {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("}) {
            assertFalse(script.contains(sink), "the page script must not use " + sink);
        }
        Reply css = PageFixtures.get(detect, "/page/page.css");
        assertEquals(200, css.status());
        assertEquals("text/css;charset=utf-8", css.header("Content-Type").toLowerCase(Locale.ROOT));
        assertFalse(css.text().contains("@import") || css.text().contains("url(http"), "no outside style");

        Reply missing = PageFixtures.get(detect, "/page/nope.js");
        assertEquals(404, missing.status());
        assertEquals("not_found", missing.json().get("code").asText());
        assertTrue(missing.json().get("message").asText().contains("/v1/inspect"));
    }
}
