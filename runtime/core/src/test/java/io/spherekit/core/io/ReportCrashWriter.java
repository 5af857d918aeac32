package io.spherekit.core.io;

import java.nio.file.Path;

/**
 * Child JVM of {@link ReportCrashTest}: writes generation 1, 2, ... of a JSON report and of a CSV (the shapes of
 * the project's reports and roc.csv) to {@code args[0]} and {@code args[1]} with {@link AtomicFiles} in a loop
 * until killed, printing "writing N" before each pair of writes.
 */
public final class ReportCrashWriter {

    static final int ROWS = 60_000;

    private ReportCrashWriter() {
    }

    /** @return a JSON object {"generation": N, "values": [N, N, ... ({@value #ROWS} times)]}, about 0.5 MB */
    static String json(int gen) {
        StringBuilder b = new StringBuilder("{\"generation\": ").append(gen).append(", \"values\": [");
        for (int i = 0; i < ROWS; i++) {
            b.append(i == 0 ? "" : ", ").append(gen);
        }
        return b.append("]}\n").toString();
    }

    /** @return a header line "generation,row" and {@value #ROWS} lines "N,i" */
    static String csv(int gen) {
        StringBuilder b = new StringBuilder("generation,row\n");
        for (int i = 0; i < ROWS; i++) {
            b.append(gen).append(',').append(i).append('\n');
        }
        return b.toString();
    }

    public static void main(String[] args) throws Exception {
        Path report = Path.of(args[0]);
        Path csv = Path.of(args[1]);
        for (int gen = Integer.parseInt(args[2]); ; gen++) {
            System.out.println("writing " + gen);
            System.out.flush();
            AtomicFiles.writeString(report, json(gen));
            AtomicFiles.writeString(csv, csv(gen));
        }
    }
}
