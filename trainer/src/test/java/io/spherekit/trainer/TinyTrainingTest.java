package io.spherekit.trainer;

import io.spherekit.core.Preprocessing;
import io.spherekit.trainer.data.FaceDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Training on a tiny generated person-per-folder set (4 identities × 8 images) lowers the A-Softmax loss. */
public class TinyTrainingTest {

    public static Path makeDataset(Path root, int identities, int perIdentity, long seed) throws Exception {
        Random r = new Random(seed);
        for (int c = 0; c < identities; c++) {
            Path dir = Files.createDirectories(root.resolve("person_" + c));
            Color base = Color.getHSBColor(c / (float) identities, 0.8f, 0.9f);
            for (int i = 0; i < perIdentity; i++) {
                BufferedImage img = new BufferedImage(250, 250, BufferedImage.TYPE_INT_RGB);
                Graphics2D g = img.createGraphics();
                g.setColor(Color.DARK_GRAY);
                g.fillRect(0, 0, 250, 250);
                g.setColor(base);
                // an identity-specific shape inside the face crop box, jittered per image
                int jx = r.nextInt(9) - 4;
                int jy = r.nextInt(9) - 4;
                if (c % 2 == 0) {
                    g.fillOval(85 + jx + 8 * c, 80 + jy, 60, 70);
                } else {
                    g.fillRect(80 + jx, 70 + jy + 8 * c, 70, 50);
                }
                g.dispose();
                ImageIO.write(img, "png", dir.resolve(String.format("person_%d_%04d.png", c, i + 1)).toFile());
            }
        }
        return root;
    }

    @Test
    void lossDecreasesOnATinySet(@TempDir Path tmp) throws Exception {
        Path root = makeDataset(tmp.resolve("faces"), 4, 8, 1);
        TrainConfig cfg = new TrainConfig(root, null, 2, 0, tmp.resolve("run"), 4, 0.125, 32, "asoftmax", 4,
                1000, 0.12, 1, 5, 12, 8, 0.01, "step", 0, 0.9, 5e-4, true, 7, 1, 0.0, Double.NaN, Double.NaN, 0, null, 0, 112, 96, false, false);
        var ids = FaceDataset.list(root, null, 2, 0);
        FaceDataset data = FaceDataset.load(ids, Preprocessing.LFW_SPHEREFACE, 1, null);
        assertEquals(32, data.size());
        assertEquals(4, data.numClasses());
        Trainer.Result first = new Trainer(cfg, new PrintStream(new ByteArrayOutputStream())).train(data);
        // the trainer reports an EMA of the loss; compare with the untrained loss, ln(4) ≈ 1.386 at λ = 1000
        assertTrue(first.finalLoss() < 0.5 * Math.log(4),
                "loss after 48 iterations should fall well below ln(4): " + first.finalLoss());
        assertEquals(48, first.iterations());
        assertEquals("48", first.metadata().get("spherekit.training.iterations"));
    }
}
