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
        TrainConfig cfg = TrainConfig.builder().imageRoot(root).peopleFile(null).minImages(2).maxIdentities(0)
                .outputDir(tmp.resolve("run")).depth(4).widthMultiplier(0.125).embeddingDim(32).head("asoftmax").m(4)
                .lambdaBase(1000).lambdaGamma(0.12).lambdaPower(1).lambdaMin(5).epochs(12).batchSize(8).lr(0.01)
                .lrSchedule("step").warmup(0).momentum(0.9).weightDecay(5e-4).flip(true).seed(7).threads(1)
                .valFraction(0.0).scale(Double.NaN).margin(Double.NaN).cropMargin(0).cacheDir(null).checkpointEvery(0)
                .inputHeight(112).inputWidth(96).batchNorm(false).failOnCorrupt(false).build();
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
