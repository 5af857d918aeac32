package io.spherekit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.spherekit.server.PageFixtures.Reply;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The page at {@code /} in a real headless Chromium (Debian's {@code chromium} and {@code chromedriver}, paths from
 * {@code spherekit.chromium} / {@code spherekit.chromedriver}), against real servers on free loopback ports: a person
 * picks two LFW photos and the page must show what {@code /v1/verify} answers for them. Screenshots go to
 * {@code spherekit.page.screenshots} ({@code target/page-screenshots/}).
 *
 * <p>The model is the tiny test model ({@link PageFixtures#model}) unless {@code -Dspherekit.page.model=FILE}
 * names a real one (e.g. {@code runs/demo/model.onnx}, whose threshold is in its metadata).
 */
class PageBrowserTest {

    @TempDir
    static Path dir;
    static Path model;
    static FaceServer detect;
    static FaceServer crop;
    static WebDriver driver;
    static Path shots;

    @BeforeAll
    static void setUp() throws Exception {
        String chromium = System.getProperty("spherekit.chromium", "/usr/bin/chromium");
        String chromedriver = System.getProperty("spherekit.chromedriver", "/usr/bin/chromedriver");
        for (String exe : new String[] {chromium, chromedriver}) {
            if (!Files.isExecutable(Path.of(exe))) {
                throw new IllegalStateException(exe + " is missing: install Debian's chromium and chromium-driver"
                        + " (scripts/browser-test.sh does), or pass -Dspherekit.chromium=... -Dspherekit.chromedriver=...");
            }
        }
        String real = System.getProperty("spherekit.page.model", "");
        model = real.isBlank() ? PageFixtures.model(dir) : Path.of(real);
        detect = PageFixtures.server(model, true, FaceServer.DEFAULT_MAX_BODY_BYTES);
        crop = PageFixtures.server(model, false, FaceServer.DEFAULT_MAX_BODY_BYTES);
        shots = Path.of(System.getProperty("spherekit.page.screenshots", "target/page-screenshots"));
        Files.createDirectories(shots);

        ChromeOptions o = new ChromeOptions();
        o.setBinary(chromium);
        // The flags this machine's Chromium needs (no sandbox as root, no network besides loopback)
        o.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1150", "--user-data-dir="
                        + Files.createDirectories(dir.resolve("chromium-profile")));
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        o.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(chromedriver)).usingAnyFreePort().build();
        driver = new ChromeDriver(service, o);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60));
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
    }

    @AfterAll
    static void tearDown() {
        if (driver != null) {
            driver.quit();
        }
        if (detect != null) {
            detect.close();
        }
        if (crop != null) {
            crop.close();
        }
    }

    /** Opens the page fresh and waits until it has read the model's description. */
    static void open(FaceServer s) {
        driver.get(PageFixtures.uri(s, "/").toString());
        new WebDriverWait(driver, Duration.ofSeconds(30)).until(d -> {
            String t = d.findElement(By.id("model")).getText();
            return t.startsWith("Model ") || t.startsWith("Cannot reach");
        });
        String line = driver.findElement(By.id("model")).getText();
        assertTrue(line.startsWith("Model "), line);
    }

    /** Picks the two photos as a person does (the file inputs) and waits for the verdict or an error. */
    static void pick(Path a, Path b) {
        driver.findElement(By.id("file-a")).sendKeys(a.toAbsolutePath().toString());
        driver.findElement(By.id("file-b")).sendKeys(b.toAbsolutePath().toString());
        new WebDriverWait(driver, Duration.ofSeconds(90)).until(d -> d.findElement(By.id("verdict")).isDisplayed()
                || d.findElement(By.id("error")).isDisplayed());
    }

    static Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    static void screenshot(String name) throws Exception {
        byte[] png = ((ChromeDriver) driver).getScreenshotAs(OutputType.BYTES);
        Path file = shots.resolve(name + ".png");
        Files.write(file, png);
        System.out.println("[page] screenshot " + file.toAbsolutePath());
    }

    /** @return the browser console's errors (CSP violations, script errors) except the ones {@code allowed} */
    static List<String> consoleErrors(String... allowed) {
        List<String> out = new ArrayList<>();
        for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
            if (e.getLevel().intValue() >= Level.SEVERE.intValue()) {
                boolean ok = false;
                for (String a : allowed) {
                    ok |= e.getMessage().contains(a);
                }
                if (!ok) {
                    out.add(e.getMessage());
                }
            }
        }
        return out;
    }

    /**
     * Checks the page's verdict against {@code /v1/verify} for the same files, and that each photo has its box
     * drawn over the image and its model-input crop shown.
     *
     * @param boxClass {@code face-used} (detect) or {@code crop-box} (fixed crop)
     */
    static JsonNode assertVerdictMatchesVerify(FaceServer s, Path a, Path b, String boxClass) throws Exception {
        assertTrue(driver.findElement(By.id("verdict")).isDisplayed(),
                "verdict shown; error: " + driver.findElement(By.id("error")).getText());
        Reply v = PageFixtures.postPair(s, "/v1/verify", Files.readAllBytes(a), Files.readAllBytes(b));
        assertEquals(200, v.status(), String.valueOf(v.json()));
        double score = v.json().get("score").asDouble();
        boolean same = v.json().get("same").asBoolean();
        assertEquals(same ? "Same person" : "Different people", driver.findElement(By.id("decision")).getText());
        WebElement cosine = driver.findElement(By.id("cosine"));
        assertEquals(String.format(Locale.ROOT, "%.4f", score), cosine.getText(), "the cosine shown");
        assertEquals(score, Double.parseDouble(cosine.getAttribute("data-score")), 0.0, "the cosine, unrounded");
        assertEquals(String.format(Locale.ROOT, "%.4f", v.json().get("threshold").asDouble()),
                driver.findElement(By.id("threshold")).getText());
        assertEquals(same ? "≥" : "<", driver.findElement(By.id("relation")).getText());
        String source = driver.findElement(By.id("threshold-source")).getText();
        assertTrue(source.startsWith("Threshold stored in the model file (spherekit.threshold)"), source);

        // the marker on the cosine scale (-1 at the left end, +1 at the right) sits at the score
        @SuppressWarnings("unchecked")
        Map<String, Object> scale = (Map<String, Object>) js("const b = document.querySelector('.scale-bar')"
                + ".getBoundingClientRect(); const m = document.querySelector('.scale-score').getBoundingClientRect();"
                + " return {at: (m.left + m.width / 2 - b.left) / b.width * 2 - 1, px: b.width};");
        assertEquals(score, ((Number) scale.get("at")).doubleValue(), 4 / ((Number) scale.get("px")).doubleValue(),
                "score marker on the scale: " + scale);
        JsonNode input = PageFixtures.get(s, "/v1/model").json().get("input");
        for (String part : new String[] {"a", "b"}) {
            List<WebElement> boxes = driver.findElements(By.cssSelector("#slot-" + part + " .overlay rect." + boxClass));
            assertEquals(1, boxes.size(), "one " + boxClass + " box over photo " + part);
            // the overlay covers the photo exactly, and the box lies on it
            @SuppressWarnings("unchecked")
            Map<String, Object> geo = (Map<String, Object>) js("const s = document.getElementById('slot-' + arguments[0]);"
                    + "const i = s.querySelector('.photo').getBoundingClientRect();"
                    + "const o = s.querySelector('.overlay').getBoundingClientRect();"
                    + "const r = s.querySelector('.overlay rect.' + arguments[1]).getBoundingClientRect();"
                    + "return {dx: Math.abs(i.left - o.left) + Math.abs(i.top - o.top), dw: Math.abs(i.width - o.width)"
                    + " + Math.abs(i.height - o.height), w: i.width, inside: r.left >= i.left - 1 && r.top >= i.top - 1"
                    + " && r.right <= i.right + 1 && r.bottom <= i.bottom + 1, rw: r.width};", part, boxClass);
            assertTrue(((Number) geo.get("dx")).doubleValue() < 1, "overlay placed on the photo: " + geo);
            assertTrue(((Number) geo.get("dw")).doubleValue() < 1, "overlay sized as the photo: " + geo);
            assertTrue((Boolean) geo.get("inside"), "box on the photo: " + geo);
            assertTrue(((Number) geo.get("w")).doubleValue() > 100, "photo shown: " + geo);
            assertTrue(((Number) geo.get("rw")).doubleValue() > 20, "box drawn at a visible size: " + geo);
            // the model-input crop, decoded by the browser at the model's input size
            @SuppressWarnings("unchecked")
            Map<String, Object> c = (Map<String, Object>) js("const i = document.querySelector('#crop-' + arguments[0]"
                    + " + ' img'); return {ok: i.complete, w: i.naturalWidth, h: i.naturalHeight,"
                    + " shown: i.getBoundingClientRect().width};", part);
            assertEquals(Boolean.TRUE, c.get("ok"), c.toString());
            assertEquals(input.get("width").asLong(), ((Number) c.get("w")).longValue(), "crop width: " + c);
            assertEquals(input.get("height").asLong(), ((Number) c.get("h")).longValue(), "crop height: " + c);
            assertTrue(((Number) c.get("shown")).doubleValue() > 90, "crop shown: " + c);
        }
        return v.json();
    }

    @Test
    void samePersonShowsBoxesCropsAndTheVerifyVerdict() throws Exception {
        open(detect);
        pick(PageFixtures.BLAIR_1, PageFixtures.BLAIR_2);
        JsonNode v = assertVerdictMatchesVerify(detect, PageFixtures.BLAIR_1, PageFixtures.BLAIR_2, "face-used");
        assertEquals(4, driver.findElements(By.cssSelector("#slot-a .overlay circle.landmark.aligned")).size(),
                "eyes, nose tip and mouth centre of photo 1");
        assertTrue(driver.findElement(By.cssSelector("#slot-a .meta")).getText().contains("face"),
                driver.findElement(By.cssSelector("#slot-a .meta")).getText());
        screenshot("same-person");
        assertEquals(List.of(), consoleErrors());
        System.out.printf(Locale.ROOT, "[page] same person: cosine %.4f, same=%b%n", v.get("score").asDouble(),
                v.get("same").asBoolean());
    }

    @Test
    void differentPeopleShowTheVerifyVerdict() throws Exception {
        open(detect);
        pick(PageFixtures.BLAIR_1, PageFixtures.SERENA_1);
        JsonNode v = assertVerdictMatchesVerify(detect, PageFixtures.BLAIR_1, PageFixtures.SERENA_1, "face-used");
        screenshot("different-people");
        assertEquals(List.of(), consoleErrors());
        System.out.printf(Locale.ROOT, "[page] different people: cosine %.4f, same=%b%n", v.get("score").asDouble(),
                v.get("same").asBoolean());
    }

    @Test
    void aFixedCropServerShowsTheCropBox() throws Exception {
        open(crop);
        pick(PageFixtures.BLAIR_1, PageFixtures.SERENA_1);
        assertVerdictMatchesVerify(crop, PageFixtures.BLAIR_1, PageFixtures.SERENA_1, "crop-box");
        assertEquals(0, driver.findElements(By.cssSelector(".overlay rect.face-used")).size());
        String meta = driver.findElement(By.cssSelector("#slot-b .meta")).getText();
        assertTrue(meta.contains("fixed crop box"), meta);
        screenshot("fixed-crop");
        assertEquals(List.of(), consoleErrors());
    }

    @Test
    void aPhotoWithoutAFaceIsNamedToThePerson() throws Exception {
        Path grey = dir.resolve("grey.png");
        BufferedImage g = new BufferedImage(250, 250, BufferedImage.TYPE_INT_RGB);
        Graphics2D gr = g.createGraphics();
        gr.setColor(new Color(128, 128, 128));
        gr.fillRect(0, 0, 250, 250);
        gr.dispose();
        ImageIO.write(g, "png", grey.toFile());
        open(detect);
        pick(PageFixtures.BLAIR_1, grey);
        WebElement error = driver.findElement(By.id("error"));
        assertTrue(error.isDisplayed());
        assertFalse(driver.findElement(By.id("verdict")).isDisplayed());
        assertEquals("No face found", error.findElement(By.className("error-title")).getText());
        String message = error.findElement(By.className("error-message")).getText();
        assertTrue(message.startsWith("No face found in photo 2 (250x250"), message);
        assertEquals("HTTP 422 · no_face", error.findElement(By.className("error-code")).getText());
        assertTrue(driver.findElement(By.id("slot-b")).getAttribute("class").contains("failed"));
        screenshot("no-face");
        assertEquals(List.of(), consoleErrors("422"));
    }

    @Test
    void photosAboveTheBodyLimitAreRefusedBeforeUpload() throws Exception {
        long limit = Files.size(PageFixtures.BLAIR_1) + 1000; // one photo fits, two do not
        try (FaceServer small = PageFixtures.server(model, true, limit)) {
            open(small);
            pick(PageFixtures.BLAIR_1, PageFixtures.BLAIR_2);
            WebElement error = driver.findElement(By.id("error"));
            assertTrue(error.isDisplayed());
            assertEquals("The photos are too large", error.findElement(By.className("error-title")).getText());
            String message = error.findElement(By.className("error-message")).getText();
            assertTrue(message.contains("this server accepts at most"), message);
            assertEquals("checked in the page; nothing was sent",
                    error.findElement(By.className("error-code")).getText());
            assertEquals(0L, js("return performance.getEntriesByType('resource')"
                    + ".filter(e => e.name.includes('/v1/inspect')).length;"), "no upload was attempted");
            assertTrue((Long) js("return performance.getEntriesByType('resource')"
                    + ".filter(e => e.name.includes('/v1/model')).length;") >= 1, "resource timing sees the fetches");
            assertEquals(List.of(), consoleErrors());
        }
    }

    @Test
    void aFileNameIsShownAsTextNeverRunAsMarkup() throws Exception {
        Path evil = dir.resolve("<img src=x onerror=\"window.__pwned=1\">.jpg");
        Files.copy(PageFixtures.BLAIR_2, evil);
        open(detect);
        pick(PageFixtures.BLAIR_1, evil);
        String meta = driver.findElement(By.cssSelector("#slot-b .meta")).getText();
        assertTrue(meta.startsWith("<img src=x onerror=\"window.__pwned=1\">.jpg"), meta);
        assertEquals(0, driver.findElements(By.cssSelector(".meta img")).size());
        assertEquals(Boolean.FALSE, js("return window.__pwned === 1;"));
    }
}
