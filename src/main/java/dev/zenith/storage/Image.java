package dev.zenith.storage;

import dev.zenith.Lsn;

import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A complete data directory, cleanly shut down at {@code lsn} (its shutdown checkpoint) on Postgres
 * timeline {@code tli}. Recovered with no other WAL it is the state at {@code lsn} and nothing after.
 * The directory name carries both: {@code images/0000000001763BA8-00000001}.
 */
public record Image(Lsn lsn, int tli, Path dataDir) {

    private static final Pattern NAME = Pattern.compile("([0-9A-F]{16})-([0-9A-F]{8})");

    static String dirName(Lsn lsn, int tli) {
        return String.format("%016X-%08X", lsn.value(), tli);
    }

    static Optional<Image> parse(Path dir) {
        Matcher m = NAME.matcher(dir.getFileName().toString());
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(new Image(new Lsn(Long.parseUnsignedLong(m.group(1), 16)),
                Integer.parseUnsignedInt(m.group(2), 16), dir));
    }
}
