package dev.zenith.cli;

/** Counts as people write them: "1 branch", "2 branches". */
final class Counts {

    private Counts() {
    }

    static String of(long n, String one, String many) {
        return n + " " + (n == 1 ? one : many);
    }
}
