package dev.zenith.storage;

import dev.zenith.Lsn;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A complete data directory from which the state at {@code lsn} (on Postgres timeline {@code tli}) is
 * reached. A clean image was shut down at {@code lsn} (initdb, a stopped compute): recovered with no
 * other WAL it is exactly that state. A base backup of a running compute carries a
 * {@code backup_label} and needs the WAL from its backup start up to {@code lsn}, its backup end. An image
 * made by recovering a followed source's WAL was shut down in recovery: {@value #REPLAY_FROM} says where
 * its replay starts (its restartpoint's redo), and it is consistent at {@code lsn}, where replay had got.
 * The directory name carries LSN and tli: {@code images/0000000001763BA8-00000001}.
 */
public record Image(Lsn lsn, int tli, Path dataDir) {

    private static final Pattern NAME = Pattern.compile("([0-9A-F]{16})-([0-9A-F]{8})");
    private static final Pattern START = Pattern.compile("START WAL LOCATION: ([0-9A-F]+/[0-9A-F]+)");

    public static String dirName(Lsn lsn, int tli) {
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

    /** Beside an image shut down in recovery: the LSN its replay starts from. */
    public static final String REPLAY_FROM = "zenith-replay-from";

    /** No WAL needed to reach {@code lsn}. */
    public boolean clean() {
        return !Files.exists(dataDir.resolve("backup_label")) && !Files.exists(dataDir.resolve(REPLAY_FROM));
    }

    /** The first WAL a recovery from this image reads: its backup start, or for a clean image its own LSN. */
    public Lsn walStart() {
        if (clean()) {
            return lsn;
        }
        try {
            if (Files.exists(dataDir.resolve(REPLAY_FROM))) {
                return Lsn.parse(Files.readString(dataDir.resolve(REPLAY_FROM)).strip());
            }
            Matcher m = START.matcher(Files.readString(dataDir.resolve("backup_label")));
            return m.find() ? Lsn.parse(m.group(1)) : lsn;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the backup label of " + dataDir, e);
        }
    }
}
