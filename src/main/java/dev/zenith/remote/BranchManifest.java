package dev.zenith.remote;

import dev.zenith.storage.TimelineMetadata;

import java.util.List;
import java.util.Map;

/**
 * What a remote knows of one branch, the only thing a reader trusts: written last, after every object it
 * names, as {@code branches/NAME/manifest-SEQ.json}, create-only, the highest {@code seq} winning. It lists
 * the branch's timeline and its ancestors up to their branch points, each with its metadata, its WAL files
 * and its images, every file as an object of {@link ObjectPacker}; and what a clone needs to run them: the
 * superuser initdb made and the PostgreSQL major version.
 */
public record BranchManifest(String branch, long seq, String pushedAt, String superuser, int pgVersion,
                             List<TimelineEntry> timelines) {

    /** One timeline of the chain, the branch's own first. */
    public record TimelineEntry(TimelineMetadata metadata, Map<String, ObjectPacker.ObjectRef> wal,
                                Map<String, ObjectPacker.ObjectRef> partial, List<ImageEntry> images) {
    }

    /** An image: a data directory as a tar, at {@code lsn} on Postgres timeline {@code tli}. */
    public record ImageEntry(String lsn, int tli, ObjectPacker.ObjectRef tar) {
    }

    static String prefix(String branch) {
        return "branches/" + branch + "/";
    }

    static String key(String branch, long seq) {
        return prefix(branch) + "manifest-" + seq + ".json";
    }
}
