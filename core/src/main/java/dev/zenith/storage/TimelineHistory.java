package dev.zenith.storage;

import dev.zenith.Lsn;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A Postgres timeline history file ({@code 00000003.history}): for each earlier Postgres timeline, the
 * LSN where it was left. Tells which timeline id was in force at an LSN.
 *
 * @param tli      the timeline this file belongs to (in force after the last switch)
 * @param switches earlier timelines and where each ended, oldest first
 */
public record TimelineHistory(int tli, List<Switch> switches) {

    public record Switch(int tli, Lsn end) {
    }

    /** A timeline with no history file: it was never switched to. */
    public static TimelineHistory none(int tli) {
        return new TimelineHistory(tli, List.of());
    }

    public static TimelineHistory read(int tli, Path file) {
        List<Switch> switches = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file)) {
                String t = line.strip();
                if (t.isEmpty() || t.startsWith("#")) {
                    continue;
                }
                String[] cols = t.split("\\s+");
                switches.add(new Switch(Integer.parseInt(cols[0]), Lsn.parse(cols[1])));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return new TimelineHistory(tli, List.copyOf(switches));
    }

    /** The timeline id in force at {@code lsn}: records before a switch point belong to the older timeline. */
    public int tliAt(Lsn lsn) {
        for (Switch s : switches) {
            if (lsn.isBefore(s.end())) {
                return s.tli();
            }
        }
        return tli;
    }
}
