package io.spherekit.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spherekit.core.io.AtomicFiles;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Learning curves of several runs in one PNG, from their {@code train-log.jsonl} files: the training loss (EMA of
 * the per-batch loss, including the L2 term) per iteration above, and, when the runs logged one
 * ({@code train --val-fraction > 0}), the held-out 10-fold accuracy per epoch below.
 *
 * <pre>
 *   java -cp ... io.spherekit.trainer.LearningCurves OUT.png "TITLE" LABEL=RUN/train-log.jsonl ...
 * </pre>
 * Exit codes: 0 written, 1 a log cannot be read (the message names the file and line), 2 usage.
 */
public final class LearningCurves {

    private static final ObjectMapper JSON = new ObjectMapper();

    private LearningCurves() {
    }

    /** One run's curves. */
    record Curves(String label, XYSeries loss, XYSeries heldout) {
    }

    /**
     * Reads one run's log.
     *
     * @throws IOException naming the file and the line when a line is not a JSON object
     */
    static Curves read(String label, Path log) throws IOException {
        XYSeries loss = new XYSeries(label, true, true);
        XYSeries acc = new XYSeries(label, true, true);
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (IOException e) {
                throw new IOException(log + ":" + (i + 1) + ": not a JSON object: " + e.getMessage(), e);
            }
            if (n == null || !n.isObject()) {
                throw new IOException(log + ":" + (i + 1) + ": not a JSON object");
            }
            String type = n.path("type").asText();
            if (type.equals("iteration") && n.has("loss")) {
                loss.addOrUpdate(n.get("iteration").asDouble(), n.get("loss").asDouble());
            } else if (type.equals("epoch") && n.has("heldout_accuracy")) {
                acc.addOrUpdate(n.get("iteration").asDouble(), n.get("heldout_accuracy").asDouble());
            }
        }
        return new Curves(label, loss, acc);
    }

    /** Writes the chart atomically ({@link AtomicFiles}). */
    static void plot(List<Curves> runs, String title, Path out) throws IOException {
        XYSeriesCollection losses = new XYSeriesCollection();
        XYSeriesCollection accs = new XYSeriesCollection();
        for (Curves c : runs) {
            losses.addSeries(c.loss());
            if (c.heldout().getItemCount() > 0) {
                accs.addSeries(c.heldout());
            }
        }
        CombinedDomainXYPlot combined = new CombinedDomainXYPlot(new NumberAxis("iteration"));
        NumberAxis lossAxis = new NumberAxis("training loss (EMA)");
        lossAxis.setAutoRangeIncludesZero(false);
        combined.add(new XYPlot(losses, null, lossAxis, new XYLineAndShapeRenderer(true, false)), 2);
        if (accs.getSeriesCount() > 0) {
            NumberAxis accAxis = new NumberAxis("held-out 10-fold accuracy");
            accAxis.setAutoRangeIncludesZero(false);
            combined.add(new XYPlot(accs, null, accAxis, new XYLineAndShapeRenderer(true, true)), 1);
        }
        combined.setOrientation(PlotOrientation.VERTICAL);
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, combined, true);
        Files.createDirectories(out.toAbsolutePath().getParent());
        AtomicFiles.write(out, o -> ChartUtils.writeChartAsPNG(o, chart, 1000, 700));
    }

    public static void main(String[] args) {
        if (args.length < 3) {
            System.err.println("usage: LearningCurves OUT.png TITLE LABEL=RUN/train-log.jsonl ...");
            System.exit(2);
        }
        List<Curves> runs = new ArrayList<>();
        try {
            for (int i = 2; i < args.length; i++) {
                int eq = args[i].indexOf('=');
                if (eq <= 0) {
                    System.err.println("error: expected LABEL=FILE, got '" + args[i] + "'");
                    System.exit(2);
                }
                runs.add(read(args[i].substring(0, eq), Path.of(args[i].substring(eq + 1))));
            }
            plot(runs, args[1], Path.of(args[0]));
        } catch (IOException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
        System.out.println("learning curves: " + args[0]);
    }
}
