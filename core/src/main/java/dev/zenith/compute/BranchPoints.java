package dev.zenith.compute;

import dev.zenith.BranchName;
import dev.zenith.Lsn;
import dev.zenith.PointInTime;
import dev.zenith.TagName;
import dev.zenith.WalPoint;
import dev.zenith.ZenithException;
import dev.zenith.storage.RecoveryPlan;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Retention;
import dev.zenith.storage.Tag;
import dev.zenith.storage.Timeline;
import dev.zenith.storage.WalFileName;
import dev.zenith.storage.WalReader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Where a point of a branch's history lies in its WAL: its end now (a fresh restore point when its
 * compute runs, else the end of its last clean stop), a past LSN or time, checked against the branch's
 * life and retention window, or a tag of the branch. Callers hold the branch's timeline lock.
 */
final class BranchPoints {

    /**
     * Where a branch's WAL stands: {@code mark} is its end as a branch point, {@code end} the last LSN
     * it has, {@code promoted} whether it has WAL of its own (else every point is its branch point).
     */
    record Head(boolean promoted, Lsn end, WalPoint mark) {
    }

    private final Repository repository;
    private final BranchComputes computes;
    private final ComputeSql sql;
    private final Followers followers;

    BranchPoints(Repository repository, BranchComputes computes, ComputeSql sql, Followers followers) {
        this.repository = repository;
        this.computes = computes;
        this.sql = sql;
        this.followers = followers;
    }

    /** Where {@code at} (null: the end of WAL) lies in a branch's history; {@code markName} names a restore point. */
    WalPoint resolve(Timeline branch, BranchName branchName, String markName, PointInTime at) {
        Head head = head(branch, markName);
        Lsn start = branch.startLsn();
        Retention retention = repository.retention(branch);
        Lsn lsn = switch (at) {
            case null -> head.mark().lsn();
            case PointInTime.AtLsn atLsn -> {
                Lsn last = head.promoted() ? head.end() : start;
                checkLsn(branchName, atLsn.lsn(), start, last);
                checkLsnRetained(branch, branchName, atLsn.lsn(), last, retention);
                yield atLsn.lsn();
            }
            case PointInTime.AtTime atTime -> {
                checkTime(branchName, atTime.time(), Instant.now(), branch.metadata().createdAt(), retention);
                yield head.promoted() ? lsnAtTime(branch, atTime.time(), start, head.mark()) : start;
            }
            case PointInTime.AtTag atTag -> tagOf(branch, branchName, atTag.tag()).lsn(); // kept whatever the retention
        };
        int tli = at == null || !head.promoted() ? head.mark().tli()
                : branch.history(head.mark().tli(), computes.livePgWal(branch.id())).tliAt(lsn);
        return new WalPoint(lsn, tli);
    }

    /** Where a branch's WAL stands now; a stopped compute is settled first so its end is known. */
    Head head(Timeline branch, String markName) {
        if (followers.isFollowed(branch.id())) {
            WalPoint end = followers.settle(branch);
            return new Head(true, end.lsn(), end);
        }
        Optional<BranchComputes.Running> running = computes.runningOrSettled(branch);
        if (running.isEmpty()) {
            WalPoint last = branch.metadata().last();
            // WAL past its start is its own history: a promoted branch's, or a root that followed its source
            boolean ownHistory = branch.wal().hasHistory() || last.lsn().compareTo(branch.startLsn()) > 0;
            return new Head(ownHistory, last.lsn(), last);
        }
        ComputeNode node = running.get().node();
        Lsn end = sql.currentLsn(node, running.get().logFile());
        return new Head(true, end, sql.restorePoint(node, markName, running.get().logFile()));
    }

    /** The tag, which must name a point of this branch: another branch's is refused, naming that branch. */
    private Tag tagOf(Timeline branch, BranchName branchName, TagName name) {
        // a point that names no tag is most likely a mistyped time or LSN: a usage error that says what a point is
        Tag tag = repository.tags().get(name).orElseThrow(() -> ZenithException.badRequest("invalid point \"" + name
                + "\": there is no tag of that name (zenith tag lists them); a point is an LSN like 0/16B5A50, a time with"
                + " its zone like 2026-11-24T10:15:00Z, a relative time like -10m or -2h, or a tag's name"));
        if (!tag.timeline().equals(branch.id())) {
            String owner = repository.branches().nameOf(tag.timeline()).map(BranchName::value).orElse("another branch");
            throw ZenithException.badRequest("tag " + name + " is a point of " + owner + ", not of branch " + branchName
                    + ": name that branch with it (" + owner + "@" + name + ", zenith branch NEW " + owner + " --at " + name + ")");
        }
        return tag;
    }

    /** An LSN must lie within the branch's own history, from its start to the end of its WAL. */
    static void checkLsn(BranchName name, Lsn at, Lsn start, Lsn last) {
        if (at.isBefore(start) || at.isAfter(last)) {
            throw ZenithException.badRequest("LSN " + at + " is outside branch " + name + "'s history: "
                    + (at.isBefore(start) ? "it starts at " + start : "its WAL ends at " + last)
                    + "; choose an LSN from " + start + " to " + last);
        }
    }

    /**
     * A time must lie within the branch's life and its retention window: not in the future, not before
     * the branch was made, not older than the window.
     */
    static void checkTime(BranchName name, Instant time, Instant now, Instant created, Retention retention) {
        Instant horizon = retention.horizon(now);
        Instant earliest = created.isAfter(horizon) ? created : horizon;
        if (time.isAfter(now)) {
            throw ZenithException.badRequest("time " + time + " is in the future; choose a time from " + shown(earliest.plusNanos(999_999_999)) + " to " + shown(now));
        }
        if (time.isBefore(created)) {
            throw ZenithException.badRequest("time " + time + " is before branch " + name + " existed (created "
                    + shown(created) + "); choose a time from " + shown(earliest.plusNanos(999_999_999)) + " to " + shown(now));
        }
        if (time.isBefore(horizon)) {
            throw ZenithException.badRequest("time " + time + " is older than the retention window of branch " + name
                    + " (" + retention + "); choose a time from " + shown(earliest.plusNanos(999_999_999)) + " to " + shown(now));
        }
    }

    /** A moment as a user reads and types one, in whole seconds (a range's start is rounded up to stay inside it). */
    private static String shown(Instant t) {
        return t.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    }

    /** An LSN whose segment was archived before the retention horizon may be gone: refused. */
    private static void checkLsnRetained(Timeline branch, BranchName name, Lsn at, Lsn last, Retention retention) {
        Instant horizon = retention.horizon(Instant.now());
        if (branch.wal().archived().entrySet().stream().anyMatch(f -> !f.getKey().history()
                && f.getKey().segmentNumber() == at.value() / WalFileName.SEGMENT_SIZE && modifiedBefore(f.getValue(), horizon))) {
            throw ZenithException.badRequest("LSN " + at + " of branch " + name + " is older than the retention window ("
                    + retention + ", since " + horizon + "): choose a later point, up to " + last);
        }
    }

    private static boolean modifiedBefore(Path file, Instant time) {
        try {
            return Files.getLastModifiedTime(file).toInstant().isBefore(time);
        } catch (IOException e) {
            return false;
        }
    }

    /** The LSN of the state at {@code time}: where the first transaction that ended after it starts, at most {@code mark}. */
    private Lsn lsnAtTime(Timeline branch, Instant time, Lsn start, WalPoint mark) {
        Map<WalFileName, Path> files = new TreeMap<>();
        RecoveryPlan.latest(repository, branch).files(repository, computes::livePgWal)
                .forEach((fileName, file) -> files.put(fileName, file.path()));
        WalReader reader = new WalReader(files, branch.history(mark.tli(), computes.livePgWal(branch.id())));
        return reader.firstCommitAfter(time, start, mark.lsn()).orElse(mark.lsn());
    }
}
