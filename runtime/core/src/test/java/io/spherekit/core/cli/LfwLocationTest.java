package io.spherekit.core.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@link LfwLocation#resolve}: the flag, else $SPHEREKIT_LFW, else ../shared/data/lfw next to the repository root. */
class LfwLocationTest {

    private static final Path CWD = Path.of("").toAbsolutePath();

    @Test
    void flagWinsOverEnvironmentAndHome() {
        assertEquals(Path.of("/data/a"), LfwLocation.resolve(Path.of("/data/a"), "/env/lfw", "/repo"));
        assertEquals(CWD.resolve("rel/lfw"), LfwLocation.resolve(Path.of("rel/lfw"), "/env/lfw", "/repo"),
                "a relative flag is taken from the current folder, not the repository root");
    }

    @Test
    void environmentWinsOverHome() {
        assertEquals(Path.of("/env/lfw"), LfwLocation.resolve(null, "/env/lfw", "/repo"));
        assertEquals(CWD.resolve("env/rel"), LfwLocation.resolve(null, "env/rel", "/repo"));
    }

    @Test
    void defaultIsNextToTheRepositoryRootElseTheCurrentFolder() {
        assertEquals(Path.of("/work/shared/data/lfw"), LfwLocation.resolve(null, null, "/work/repo"));
        assertEquals(Path.of("/work/shared/data/lfw"), LfwLocation.resolve(null, "  ", "/work/repo"),
                "a blank environment value counts as unset");
        assertEquals(CWD.getParent().resolve("shared/data/lfw"), LfwLocation.resolve(null, null, null));
        assertEquals(CWD.getParent().resolve("shared/data/lfw"), LfwLocation.resolve(null, null, ""));
    }
}
