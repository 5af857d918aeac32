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

    /** The system property holding the repository root ({@code bin/spherekit} sets it). */
    public static final String HOME_PROPERTY = "spherekit.home";

    /** The default, relative to the repository root. */
    public static final String DEFAULT = "../shared/data/lfw";

    /** The help text of every {@code --lfw} option: what {@link #resolve(Path)} does. */
    public static final String HELP = "LFW folder (lfw-deepfunneled/ + protocol files). Default: $" + ENV
            + ", else " + DEFAULT + " next to the repository root (-D" + HOME_PROPERTY
            + ", which bin/spherekit sets; without it, the current folder counts as the root). A relative DIR is"
            + " taken from the current folder.";

    private LfwLocation() {
    }

    /**
     * @param flag the {@code --lfw} value, or null
     * @return the LFW folder (absolute, normalised; not checked for existence)
     */
    public static Path resolve(Path flag) {
        return resolve(flag, System.getenv(ENV), System.getProperty(HOME_PROPERTY));
    }

    /**
     * {@link #resolve(Path)} with the environment and the repository root given (tests).
     *
     * @param flag the {@code --lfw} value, or null
     * @param env  the value of {@value #ENV}, or null
     * @param home the repository root, or null
     */
    static Path resolve(Path flag, String env, String home) {
        Path p;
        if (flag != null) {
            p = flag;
        } else if (env != null && !env.isBlank()) {
            p = Path.of(env);
        } else if (home != null && !home.isBlank()) {
            p = Path.of(home).resolve(DEFAULT);
        } else {
            p = Path.of(DEFAULT);
        }
        return p.toAbsolutePath().normalize();
    }
}
