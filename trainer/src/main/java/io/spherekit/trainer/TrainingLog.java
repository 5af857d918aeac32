package io.spherekit.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.spherekit.core.io.AtomicFiles;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The run directory's {@code train-log.jsonl} (one JSON object per line: iteration records and per-epoch held-out
 * records) and {@code loss.png} (loss curve above the held-out 10-fold accuracy).
 *
 * <p>{@code loss.png} is a finished file, rewritten atomically ({@link AtomicFiles}) after every epoch.
 * {@code train-log.jsonl} is an append-only log, deliberately not written through {@link AtomicFiles}: it grows
 * one flushed line per record while training runs (appended to on {@code --resume}), so a crash can at most cut
 * its last line (a kill during the line's write, or power loss before the OS wrote it out). Appending drops such a
 * cut last line first, so a resumed run never glues its first record onto the remains of a killed run's last one:
 * every line of the file stays one whole JSON object.
 */
final class TrainingLog implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path dir;
    private final BufferedWriter jsonl;
    private final XYSeries loss = new XYSeries("training loss (EMA)");
    private final XYSeries valAcc = new XYSeries("held-out 10-fold accuracy");

    TrainingLog(Path dir, boolean append) throws IOException {
        this.dir = Files.createDirectories(dir);
        Path file = dir.resolve("train-log.jsonl");
        if (append) {
            dropCutLastLine(file);
        }
        this.jsonl = Files.newBufferedWriter(file, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE);
    }

    void iteration(int iter, int epoch, double lossEma, double lambda, double lr, double imgPerSec) throws IOException {
        loss.add(iter, lossEma);
        write(Map.of("type", "iteration", "iteration", iter, "epoch", epoch, "loss", lossEma, "lambda", lambda,
                "lr", lr, "images_per_second", imgPerSec));
    }

    void epoch(int iter, int epoch, Map<String, Object> values) throws IOException {
        if (values.get("heldout_accuracy") instanceof Double acc) {
            valAcc.add(iter, acc);
        }
        LinkedHashMap<String, Object> m = new LinkedHashMap<>();
        m.put("type", "epoch");
        m.put("iteration", iter);
        m.put("epoch", epoch);
        m.putAll(values);
        write(m);
        plot();
    }

    /** Truncates {@code file} after its last newline, removing a last line that a crash cut short (no newline). */
    static void dropCutLastLine(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            return;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long end = ch.size();
            ByteBuffer one = ByteBuffer.allocate(1);
            while (end > 0) {
                one.clear();
                ch.read(one, end - 1);
                if (one.get(0) == '\n') {
                    break;
                }
                end--;
            }
            if (end < ch.size()) {
                ch.truncate(end);
                ch.force(true);
            }
        }
    }

    private void write(Map<String, ?> m) throws IOException {
        jsonl.write(JSON.writeValueAsString(m));
        jsonl.newLine();
        jsonl.flush();
    }

    void plot() throws IOException {
        XYPlot lossPlot = new XYPlot(new XYSeriesCollection(loss), null, new NumberAxis("loss"),
                new XYLineAndShapeRenderer(true, false));
        CombinedDomainXYPlot combined = new CombinedDomainXYPlot(new NumberAxis("iteration"));
        combined.add(lossPlot, 2);
        if (valAcc.getItemCount() > 0) {
            NumberAxis accAxis = new NumberAxis("held-out accuracy");
            accAxis.setAutoRangeIncludesZero(false);
            combined.add(new XYPlot(new XYSeriesCollection(valAcc), null, accAxis,
                    new XYLineAndShapeRenderer(true, true)), 1);
        }
        combined.setOrientation(PlotOrientation.VERTICAL);
        JFreeChart chart = new JFreeChart("SphereKit training", JFreeChart.DEFAULT_TITLE_FONT, combined, true);
        AtomicFiles.write(dir.resolve("loss.png"), out -> ChartUtils.writeChartAsPNG(out, chart, 900, 600));
    }

    @Override
    public void close() throws IOException {
        jsonl.close();
    }
}
