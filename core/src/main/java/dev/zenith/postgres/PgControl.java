package dev.zenith.postgres;

import dev.zenith.Lsn;
import dev.zenith.WalPoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The few fields zenith needs from a data directory's {@code global/pg_control}. The bundled binaries
 * have no {@code pg_controldata}, and these fields have sat at the same offsets since PostgreSQL 9.3:
 * control version (8), state (16), latest checkpoint location (32), and the redo location (40) and timeline
 * id (48) in the checkpoint copy that follows it.
 *
 * @param clean      true when the cluster was shut down cleanly (DB_SHUTDOWNED)
 * @param checkpoint where the latest checkpoint record starts, and its Postgres timeline id; after a
 *                   clean shutdown, the end of WAL
 * @param redo       where replay from that checkpoint starts
 */
public record PgControl(boolean clean, WalPoint checkpoint, Lsn redo) {

    private static final int DB_SHUTDOWNED = 1;
    private static final int MIN_CONTROL_VERSION = 1300;

    public static PgControl read(Path dataDir) {
        Path file = dataDir.resolve("global").resolve("pg_control");
        try {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.nativeOrder());
            int version = b.getInt(8);
            if (version < MIN_CONTROL_VERSION || version > 9999) {
                throw new IllegalStateException(file + " has control version " + version + ", which zenith cannot read");
            }
            return new PgControl(b.getInt(16) == DB_SHUTDOWNED, new WalPoint(new Lsn(b.getLong(32)), b.getInt(48)),
                    new Lsn(b.getLong(40)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
