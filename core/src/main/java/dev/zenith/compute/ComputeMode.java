package dev.zenith.compute;

import dev.zenith.WalPoint;

/** What a compute serves: its branch's latest state, read-write, or a past point of it, read-only. */
sealed interface ComputeMode {

    ComputeMode READ_WRITE = new ReadWrite();

    /** The branch's one writer: recovers the latest state as a standby, then is promoted and archives its WAL. */
    record ReadWrite() implements ComputeMode {
    }

    /** A hot standby paused at {@code at}, never promoted, removed when idle. */
    record ReadOnly(WalPoint at) implements ComputeMode {
    }

    default boolean isReadOnly() {
        return this instanceof ReadOnly;
    }
}
