package io.spherekit.runtime;

import java.nio.file.Path;

/**
 * Child JVM of {@link FaceDetectorLogTest}: opens the BlazeFace model {@code args[1]} on the CPU and closes it,
 * as a {@link FaceDetector} ({@code args[0]} = "detector") or with {@link FaceEmbedder}'s session defaults, as a
 * user's model is opened ("embedder"). ONNX Runtime logs to this process's stderr.
 */
public final class DetectorLogChild {

    private DetectorLogChild() {
    }

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[1]);
        if (args[0].equals("detector")) {
            FaceDetector.builder().optModelPath(model).optProvider(Provider.CPU).optIntraOpThreads(1).build().close();
        } else {
            FaceEmbedder.open(FaceEmbedder.builder().setModelPath(model).optProvider(Provider.CPU)
                    .optIntraOpThreads(1)).session().close();
        }
        System.out.println("opened " + args[0]);
    }
}
