package dev.zenith;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * Postgres's {@code wal_compression} on every compute (config.json's {@code walCompression}). {@link #PGLZ}
 * is the default: full-page images in the WAL every branch keeps for time travel shrink about 4x. LZ4 and
 * ZSTD need a Postgres built with them.
 */
public enum WalCompression {
    OFF, PGLZ, LZ4, ZSTD;

    /** The value as config.json and postgresql.conf write it. */
    @JsonValue
    public String text() {
        return EnumText.of(this);
    }

    @Override
    public String toString() {
        return text();
    }

    /** A value as a user wrote it; anything else is an {@link IllegalArgumentException} naming it. */
    @JsonCreator
    public static WalCompression parse(String text) {
        return EnumText.parse(WalCompression.class, "walCompression", text);
    }
}
