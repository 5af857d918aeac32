package io.spherekit.core.cli;

import java.nio.file.Path;

/**
 * Where every command finds LFW: the {@code --lfw} flag, else {@code $SPHEREKIT_LFW}, else
 * {@code ../shared/data/lfw} next to the repository root. The repository root is the system property
 * {@code spherekit.home} (set by {@code bin/spherekit}); without it (an embedding application, a test) the
 * default is taken from the current folder. Relative flag and environment values are taken from the current
 * folder, like every other path argument.
 */
public final class LfwLocation {

    /** The environment variable consulted when no flag is given. */
    public static final String ENV = "SPHEREKIT_LFW";

    private LfwLocation() {
    }

    /**
     * @param flag the {@code --lfw} value, or null
     * @return the LFW folder (absolute, normalised; not checked for existence)
     */
    public static Path resolve(Path flag) {
        return resolve(flag, System.getenv(ENV), System.getProperty("spherekit.home"));
    }

    static Path resolve(Path flag, String env, String home) {
        Path p;
        if (flag != null) {
            p = flag;
        } else if (env != null && !env.isBlank()) {
            p = Path.of(env);
        } else if (home != null && !home.isBlank()) {
            p = Path.of(home).resolve("../shared/data/lfw");
        } else {
            p = Path.of("../shared/data/lfw");
        }
        return p.toAbsolutePath().normalize();
    }
}
