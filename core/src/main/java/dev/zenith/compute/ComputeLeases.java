package dev.zenith.compute;

import dev.zenith.BranchName;
import dev.zenith.PointInTime;

import java.nio.file.Path;

/**
 * How the proxy reaches computes (Neon's {@code WakeComputeBackend}): a client's branch in, a running
 * compute out, held for that client until the lease closes. The proxy knows nothing else of computes,
 * so it can be tested against any implementation.
 */
public interface ComputeLeases {

    /** The branch's compute, made and started if needed (once, however many clients race for it). */
    Lease lease(BranchName branch);

    /** A read-only view of a branch's past, shared by every client asking for the same point. */
    Lease leaseReadOnly(BranchName branch, PointInTime at);

    /** A client's claim on a running compute: while any is open the compute is not suspended. */
    interface Lease extends AutoCloseable {

        /** The compute's name, for messages. */
        String compute();

        /** The compute's Unix socket: the shortest way in, and no TCP on the relay path. */
        Path socket();

        /**
         * Ends the claim, but counts the client's backend as parked: kept open by the proxy's pool for a
         * later request, it does not keep the compute from suspending (which ends it). Close the parking
         * when the backend is taken up again (under a new lease) or closed.
         */
        Parking park();

        /** Ends the claim (at disconnect); idempotent. May let the idle timeout run. */
        @Override
        void close();
    }

    /** A backend the proxy keeps for later; see {@link Lease#park()}. */
    interface Parking extends AutoCloseable {

        /**
         * The compute leased again for the parked backend, without resolving its branch or starting
         * anything (a request's fast path): empty when the compute no longer admits clients, having
         * stopped or begun to. Ends the parking either way.
         */
        java.util.Optional<Lease> resume();

        /** Uncounts the parked backend; idempotent. */
        @Override
        void close();
    }
}
