package dev.zenith.remote;

import dev.zenith.Json;
import dev.zenith.Lsn;
import dev.zenith.storage.Image;
import dev.zenith.ZenithException;
import dev.zenith.storage.TimelineMetadata;

import java.io.IOException;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What a remote knows of one branch, the only thing a reader trusts: written last, after every object it
 * names, as {@code branches/NAME/manifest-SEQ.json}, create-only, the highest {@code seq} winning. It lists
 * the branch's timeline and its ancestors up to their branch points, each with its metadata, its WAL files
 * and its images, every file as an object of {@link ObjectPacker}; and what a clone needs to run them: the
 * superuser initdb made and the PostgreSQL major version.
 */
public record BranchManifest(String branch, long seq, String pushedAt, String superuser, int pgVersion,
                             List<TimelineEntry> timelines) {

    private static final Pattern KEY = Pattern.compile("branches/([^/]+)/manifest-(\\d+)\\.json");

    /** One timeline of the chain, the branch's own first. */
    public record TimelineEntry(TimelineMetadata metadata, Map<String, ObjectPacker.ObjectRef> wal,
                                Map<String, ObjectPacker.ObjectRef> partial, List<ImageEntry> images) {

        /** The size of its files once downloaded (images as tars). */
        long bytes() {
            return Stream.concat(Stream.concat(wal.values().stream(), partial.values().stream()),
                    images.stream().map(ImageEntry::tar)).mapToLong(ObjectPacker.ObjectRef::size).sum();
        }
    }

    /** An image: a data directory as a tar, at {@code lsn} on Postgres timeline {@code tli}. */
    public record ImageEntry(String lsn, int tli, ObjectPacker.ObjectRef tar) {

        String dirName() {
            return Image.dirName(Lsn.parse(lsn), tli);
        }
    }

    /** A manifest read from the remote; one that does not parse is named, with what to do. */
    static BranchManifest parse(byte[] bytes, String branch) {
        try {
            return Json.MAPPER.readValue(bytes, BranchManifest.class);
        } catch (IOException e) {
            throw ZenithException.failed("the remote's manifest of " + branch + " cannot be read: " + e.getMessage(),
                    "the remote is damaged: push the branch again under another name");
        }
    }

    /** Every manifest key on the remote under {@code prefix}, by branch, newest first. */
    static Map<String, List<String>> keysByBranch(ObjectStore store, String prefix) {
        Map<String, List<String>> keys = new TreeMap<>();
        for (String key : store.list(prefix)) {
            Matcher m = KEY.matcher(key);
            if (m.matches()) {
                keys.computeIfAbsent(m.group(1), b -> new ArrayList<>()).add(key);
            }
        }
        keys.values().forEach(list -> list.sort(Comparator.comparingLong(BranchManifest::seqOf).reversed()));
        return keys;
    }

    /** The branches the remote has, sorted. */
    public static List<String> branchNames(ObjectStore store) {
        return List.copyOf(keysByBranch(store, "branches/").keySet());
    }

    /** The newest manifest of {@code branch} on the remote, if it has the branch. */
    public static Optional<BranchManifest> latest(ObjectStore store, String branch) {
        return keysByBranch(store, prefix(branch)).getOrDefault(branch, List.of()).stream().findFirst()
                .flatMap(store::get).map(bytes -> parse(bytes, branch));
    }

    static long seqOf(String key) {
        Matcher m = KEY.matcher(key);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a manifest key: " + key);
        }
        return Long.parseLong(m.group(2));
    }

    static String prefix(String branch) {
        return "branches/" + branch + "/";
    }

    static String key(String branch, long seq) {
        return prefix(branch) + "manifest-" + seq + ".json";
    }
}
