package dev.zenith;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.regex.Pattern;

/** A branch name. Names reach file paths and connection strings, so only a safe alphabet is allowed. */
public record BranchName(String value) {

    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,62}");

    public static final BranchName MAIN = new BranchName("main");

    public BranchName {
        if (!isSafeName(value)) {
            throw new IllegalArgumentException("invalid branch name \"" + printable(value)
                    + "\": use 1 to 63 letters, digits, '_' or '-', starting with a letter or digit");
        }
    }

    /** The same alphabet serves every name that becomes a file name (compute nodes too). */
    public static boolean isSafeName(String value) {
        return value != null && VALID.matcher(value).matches();
    }

    /**
     * Compute node names share the branch alphabet, and a name that is either one becomes a URL path
     * segment and a file name: outside the alphabet it is a usage error, never a lookup.
     */
    public static String requireSafeName(String nodeOrBranch) {
        if (!isSafeName(nodeOrBranch)) {
            throw ZenithException.badRequest("invalid node or branch name \"" + printable(nodeOrBranch)
                    + "\": names use 1 to 63 letters, digits, '_' or '-', starting with a letter or digit");
        }
        return nodeOrBranch;
    }

    @JsonCreator
    public static BranchName of(String value) {
        return new BranchName(value);
    }

    /** Keeps an error message on one readable line whatever the user typed. */
    public static String printable(String s) {
        if (s == null) {
            return "";
        }
        String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        StringBuilder out = new StringBuilder();
        for (char c : cut.toCharArray()) {
            out.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
        }
        return out.toString();
    }

    @JsonValue
    @Override
    public String toString() {
        return value;
    }
}
