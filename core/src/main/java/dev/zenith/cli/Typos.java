package dev.zenith.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.util.Comparator;
import java.util.Optional;

/**
 * Tells a mistyped subcommand from a name a user chose: {@code zenith branch delte x} would otherwise make
 * a branch "delte" of x. A word one edit (two, from seven letters) away from a subcommand is taken as that
 * subcommand mistyped; {@code branch create} still makes a branch of any name.
 */
final class Typos {

    private Typos() {
    }

    /**
     * Refuses {@code NAME [REST]} given to a command's shorthand for {@code create} when NAME looks like one of
     * its subcommands mistyped (a usage error, exit 2), saying how to make one of that name all the same.
     */
    static void refuseMistypedSubcommand(CommandSpec spec, String name, Object rest) {
        String tail = rest == null ? "" : " " + rest;
        subcommandNear(spec, name).ifPresent(meant -> {
            throw new CommandLine.ParameterException(spec.commandLine(), "\"" + name + "\" looks like a mistyped subcommand:"
                    + " did you mean " + spec.qualifiedName() + " " + meant + tail + "? (" + spec.qualifiedName() + " create "
                    + name + tail + " makes one of that name)");
        });
    }

    /** The subcommand of {@code spec} that {@code word} looks like a misspelling of, if any. */
    static Optional<String> subcommandNear(CommandSpec spec, String word) {
        int allowed = word.length() >= 7 ? 2 : 1;
        return spec.subcommands().keySet().stream()
                .filter(s -> !s.equals(word) && distance(s, word) <= allowed)
                .min(Comparator.comparingInt(s -> distance(s, word)));
    }

    /**
     * Edits (insert, delete, replace, swap two neighbours) from one word to the other. By hand: picocli's
     * own matcher for unknown words is not public, and no library on zenith's class path has one.
     */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
