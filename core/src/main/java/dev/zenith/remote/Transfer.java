package dev.zenith.remote;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How far a push, pull or clone has got, in bytes of local files read or written, for progress bars; read
 * from other threads while the transfer runs.
 */
public final class Transfer {

    private final AtomicLong total = new AtomicLong();
    private final AtomicLong done = new AtomicLong();

    public long total() {
        return total.get();
    }

    public long done() {
        return done.get();
    }

    void expect(long bytes) {
        total.addAndGet(bytes);
    }

    void skip(long bytes) {
        done.addAndGet(bytes);
    }

    /** {@code in}, counting what is read from it as done. */
    InputStream counting(InputStream in) {
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    done.incrementAndGet();
                }
                return b;
            }

            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                int n = super.read(buf, off, len);
                if (n > 0) {
                    done.addAndGet(n);
                }
                return n;
            }
        };
    }
}
