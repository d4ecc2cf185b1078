package io.fastlitellm.cli;

import sun.misc.Signal;

/**
 * Turns SIGTERM and SIGINT into a callback so {@code serve} can drain and exit 0, instead of the
 * JVM's default of running shutdown hooks and exiting 143.
 */
final class Signals {
    private Signals() {
    }

    static void onTermination(Runnable action) {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), sig -> action.run());
            } catch (IllegalArgumentException unsupported) {
                // Not on this platform (or reserved by the JVM): the default behaviour remains.
            }
        }
    }
}
