package dev.zenith.compute;

import dev.zenith.BranchName;
import dev.zenith.Lsn;
import dev.zenith.PointInTime;
import dev.zenith.ZenithException;
import dev.zenith.history.Transaction;
import dev.zenith.model.BisectStep;
import dev.zenith.model.LogEntry;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;

import java.util.List;
import java.util.function.Consumer;

/**
 * {@code zenith bisect}: the first transaction after which a query's result changed, by binary search
 * over the transactions the WAL shows between a good and a bad point. Each probe runs the query on a
 * read-only view of the point just after a candidate transaction, so a search over n transactions takes
 * about log2(n) probes, one more to learn the good point's result unless {@code --expect} gives it.
 * Stateless: each search runs on the caller's thread.
 */
final class Bisect {

    /** Runs a query on the branch as it was at a point and gives its result as text (an error is a result too). */
    interface Prober {
        String resultAt(BranchName branch, Lsn at, String query);
    }

    /** Where a point of the branch's history lies; null: its end now. */
    interface Points {
        Lsn resolve(Timeline timeline, BranchName branch, PointInTime at);
    }

    private final Repository repository;
    private final BranchLog log;
    private final Points points;
    private final Prober prober;

    Bisect(Repository repository, BranchLog log, Points points, Prober prober) {
        this.repository = repository;
        this.log = log;
        this.points = points;
        this.prober = prober;
    }

    void run(BranchName branch, String query, PointInTime good, PointInTime bad, String expect, Consumer<BisectStep> out) {
        if (query == null || query.isBlank()) {
            throw ZenithException.badRequest("bisect needs a query: --query \"select count(*) from orders where id = 42\"");
        }
        Timeline timeline = repository.requireBranch(branch);
        Lsn goodLsn = good == null ? timeline.startLsn() : points.resolve(timeline, branch, good);
        Lsn badLsn = points.resolve(timeline, branch, bad);
        if (!goodLsn.isBefore(badLsn)) {
            throw ZenithException.badRequest("the good point (" + goodLsn + ") must come before the bad one (" + badLsn + ")",
                    "give --good a point further back: a time like -1d, an LSN or a tag");
        }
        List<Transaction> candidates = log.transactions(timeline, goodLsn, badLsn);
        out.accept(new BisectStep(BisectStep.START, goodLsn.toString(), badLsn.toString(), null, null, candidates.size(), null, null, null));
        int[] steps = {0};
        Prober counted = (b, at, q) -> {
            String result = prober.resultAt(b, at, q);
            steps[0]++;
            return result;
        };
        String expected = expect;
        if (expected == null) {
            expected = counted.resultAt(branch, goodLsn, query);
            out.accept(new BisectStep(BisectStep.PROBE, goodLsn.toString(), null, shown(expected), steps[0], candidates.size(), null, null, null));
        }
        // invariant: the result is the expected one after candidates[lo] (lo = -1: at the good point) and not after candidates[hi]
        int lo = -1;
        int hi = candidates.size() - 1;
        boolean hiProbed = false;
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            String result = counted.resultAt(branch, candidates.get(mid).end(), query);
            if (result.equals(expected)) {
                lo = mid;
            } else {
                hi = mid;
                hiProbed = true;
            }
            out.accept(new BisectStep(BisectStep.PROBE, candidates.get(mid).end().toString(), null, shown(result), steps[0], hi - lo, null,
                    null, null));
        }
        if (hi >= 0 && !hiProbed) {
            String result = counted.resultAt(branch, candidates.get(hi).end(), query);
            out.accept(new BisectStep(BisectStep.PROBE, candidates.get(hi).end().toString(), null, shown(result), steps[0], 1, null, null, null));
            hiProbed = !result.equals(expected);
        }
        if (hi < 0 || !hiProbed) {
            out.accept(new BisectStep(BisectStep.UNCHANGED, badLsn.toString(), null, shown(expected), steps[0], candidates.size(), null, null, null));
            return;
        }
        Transaction found = candidates.get(hi);
        LogEntry entry = log.entryOf(branch, found).orElseGet(() -> new LogEntry(LogEntry.TRANSACTION, branch.value(),
                found.end().toString(), found.commitLsn().toString(), Integer.toUnsignedLong(found.xid()), found.time().toString(),
                List.of(), null, null));
        out.accept(new BisectStep(BisectStep.FOUND, found.end().toString(), null, null, steps[0], 1, entry, found.commitLsn().toString(),
                "zenith branch NEW " + branch + " --at " + found.commitLsn()));
    }

    /** A result as progress shows it: long ones cut. */
    private static String shown(String result) {
        return result.length() <= 200 ? result : result.substring(0, 200) + "...";
    }
}
