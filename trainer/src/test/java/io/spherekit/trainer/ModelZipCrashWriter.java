package io.spherekit.trainer;

import java.nio.file.Path;
import java.util.Map;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Child JVM of {@link ModelZipCrashTest}: saves generation 1, 2, ... of {@link #net} with {@link ModelIO#save} (with
 * the updater state, as checkpoints are) to {@code args[0]} in a loop until killed, printing "writing N" before
 * each save.
 */
public final class ModelZipCrashWriter {

    private ModelZipCrashWriter() {
    }

    /** @return a 512 → 1024 → 16 graph (about 0.5 M parameters, 2 MB) whose parameters are all {@code gen} */
    static ComputationGraph net(int gen) {
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(1).updater(new Sgd(0.1))
                .graphBuilder().addInputs("in").setInputTypes(InputType.feedForward(512))
                .addLayer("fc", new DenseLayer.Builder().nOut(1024).activation(Activation.IDENTITY).build(), "in")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nOut(16)
                        .activation(Activation.IDENTITY).build(), "fc")
                .setOutputs("out").build());
        g.init();
        g.params().assign(gen);
        return g;
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        ComputationGraph g = net(0);
        for (int gen = Integer.parseInt(args[1]); ; gen++) {
            g.params().assign(gen);
            System.out.println("writing " + gen);
            System.out.flush();
            ModelIO.save(g, Map.of(), file, true);
        }
    }
}
