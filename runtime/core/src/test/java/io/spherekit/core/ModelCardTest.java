package io.spherekit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.spherekit.core.Preprocessing.ChannelOrder;
import io.spherekit.core.align.AlignmentTemplate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelCardTest {

    @TempDir
    Path dir;

    private Path card(String json) throws IOException {
        return Files.writeString(dir.resolve("m.onnx.json"), json);
    }

    @Test
    void readsEveryFieldOfTheDocumentedExample() throws Exception {
        ModelCard c = ModelCard.read(card("{\"input_size\": \"112x112\", \"mean\": 127.5, \"scale\": 0.0078125,"
                + " \"channel_order\": \"BGR\", \"layout\": \"NCHW\", \"crop\": [0.1, 0.2, 0.5, 0.6],"
                + " \"align_template\": \"arcface-112x112\"}"));
        Preprocessing p = c.resolve(null, null);
        assertEquals(new Preprocessing(0.1, 0.2, 0.5, 0.6, 112, 112, 127.5f, 1f / 128f, ChannelOrder.BGR), p);
        assertSame(AlignmentTemplate.ARCFACE, c.alignTemplate());
        assertEquals("NCHW", c.layout());
        assertEquals(dir.resolve("m.onnx.json").toString(), c.source());
    }

    @Test
    void stdIsTheReciprocalOfScaleAndSizeMayBeAnArray() throws Exception {
        Preprocessing p = ModelCard.read(card("{\"input_size\": [112, 96], \"mean\": 0, \"std\": 255,"
                + " \"channel_order\": \"rgb\"}")).resolve(null, null);
        assertEquals(Preprocessing.fullImage(112, 96, 0f, (float) (1.0 / 255), ChannelOrder.RGB), p);
    }

    @Test
    void badCardsNameTheFileAndTheField() throws Exception {
        Path f = card("{\"input_size\": \"112x112\", \"mean\": 127.5, \"scael\": 1}");
        IOException e = assertThrows(IOException.class, () -> ModelCard.read(f));
        assertTrue(e.getMessage().startsWith("model card " + f + ": unknown field 'scael' (known: input_size"),
                e.getMessage());
        e = assertThrows(IOException.class, () -> ModelCard.read(card("{\"scale\": 1, \"std\": 2}")));
        assertTrue(e.getMessage().endsWith("give scale or std, not both"), e.getMessage());
        e = assertThrows(IOException.class, () -> ModelCard.read(card("{\"mean\": \"127.5\"}")));
        assertTrue(e.getMessage().endsWith("mean must be a number, got \"127.5\""), e.getMessage());
        e = assertThrows(IOException.class, () -> ModelCard.read(card("{\"layout\": \"NHWC\"}")));
        assertTrue(e.getMessage().contains("layout must be NCHW"), e.getMessage());
        e = assertThrows(IOException.class, () -> ModelCard.read(card("{\"crop\": [0.5, 0, 0.6, 1]}")));
        assertTrue(e.getMessage().contains("left+width <= 1"), e.getMessage());
        e = assertThrows(IOException.class, () -> ModelCard.read(card("[1, 2]")));
        assertTrue(e.getMessage().endsWith("must hold one JSON object"), e.getMessage());
        e = assertThrows(IOException.class, () -> ModelCard.read(card("{\"mean\": ")));
        assertTrue(e.getMessage().contains("is not valid JSON"), e.getMessage());
        // exactly one object: trailing content and a key given twice are refused, not read past or overwritten
        e = assertThrows(IOException.class, () -> ModelCard.read(card("{\"mean\": 127.5} trailing")));
        assertTrue(e.getMessage().contains("is not valid JSON"), e.getMessage());
        e = assertThrows(IOException.class, () -> ModelCard.read(card("{\"mean\": 127.5, \"mean\": 1}")));
        assertTrue(e.getMessage().contains("is not valid JSON") && e.getMessage().contains("mean"), e.getMessage());
        e = assertThrows(IOException.class, () -> ModelCard.read(dir.resolve("none.json")));
        assertEquals("model card " + dir.resolve("none.json") + " does not exist", e.getMessage());
    }

    @Test
    void theHigherCardWinsFieldByFieldOverTheLowerAndOverTheModel() {
        ModelCard file = ModelCard.builder().inputSize("112x112").mean(127.5).scale(1 / 128.0).channelOrder("BGR")
                .source("m.onnx.json").build();
        ModelCard flags = ModelCard.builder().channelOrder("RGB").build();
        Preprocessing p = flags.over(file).resolve(null, null);
        assertEquals(Preprocessing.fullImage(112, 112, 127.5f, 1f / 128f, ChannelOrder.RGB), p);
        // over the model's own metadata: only the fields given change
        Preprocessing md = Preprocessing.LFW_SPHEREFACE;
        Preprocessing q = ModelCard.builder().mean(0).build().resolve(md, null);
        assertEquals(new Preprocessing(md.cropLeft(), md.cropTop(), md.cropWidth(), md.cropHeight(), 112, 96, 0f,
                md.scale(), md.channelOrder()), q);
        assertEquals(md, ModelCard.EMPTY.resolve(md, null));
    }

    @Test
    void aModelWithoutMetadataListsEveryMissingField() {
        ModelCard.IncompleteException e = assertThrows(ModelCard.IncompleteException.class,
                () -> ModelCard.builder().mean(127.5).build().resolve(null, null));
        assertEquals(List.of(ModelCard.Field.INPUT_SIZE, ModelCard.Field.SCALE, ModelCard.Field.CHANNEL_ORDER),
                e.missing());
        // a fixed input shape supplies the size
        e = assertThrows(ModelCard.IncompleteException.class, () -> ModelCard.EMPTY.resolve(null, new int[] {112, 112}));
        assertEquals(List.of(ModelCard.Field.MEAN, ModelCard.Field.SCALE, ModelCard.Field.CHANNEL_ORDER), e.missing());
        Preprocessing p = ModelCard.builder().mean(127.5).std(128).channelOrder("RGB").build()
                .resolve(null, new int[] {112, 112});
        assertEquals(Preprocessing.fullImage(112, 112, 127.5f, 1f / 128f, ChannelOrder.RGB), p);
    }

    @Test
    void flagValuesAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> ModelCard.builder().inputSize("112"));
        assertThrows(IllegalArgumentException.class, () -> ModelCard.builder().inputSize("0x5"));
        assertThrows(IllegalArgumentException.class, () -> ModelCard.builder().channelOrder("RGBA"));
        assertThrows(IllegalArgumentException.class, () -> ModelCard.builder().scale(0));
        assertThrows(IllegalArgumentException.class, () -> ModelCard.builder().crop("0,0,1"));
        assertThrows(IllegalArgumentException.class, () -> ModelCard.builder().alignTemplate("nope"));
        assertEquals(Path.of("a/m.onnx.json"), ModelCard.besideModel(Path.of("a/m.onnx")));
        assertNull(ModelCard.EMPTY.alignTemplate());
        assertTrue(ModelCard.EMPTY.isEmpty());
    }
}
