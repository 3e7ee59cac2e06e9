package dev.zenith;

import java.time.Instant;

/**
 * A branch as it is now, or at a point of its past: {@code main}, {@code main@before-migration},
 * {@code main@-10m}, {@code main@0/16B5A50}, as connection options and {@code zenith diff} name them.
 *
 * @param at the point, or null for the branch now
 */
public record BranchPoint(BranchName branch, PointInTime at) {

    /** Parses {@code NAME[@POINT]}; a bad name or point is an {@link IllegalArgumentException} naming it. */
    public static BranchPoint parse(String text, Instant now) {
        String t = text == null ? "" : text.trim();
        int at = t.indexOf('@');
        BranchName branch = new BranchName(at < 0 ? t : t.substring(0, at));
        return new BranchPoint(branch, at < 0 ? null : PointInTime.parse(t.substring(at + 1), now));
    }

    @Override
    public String toString() {
        return at == null ? branch.value() : branch.value() + "@" + at;
    }
}
