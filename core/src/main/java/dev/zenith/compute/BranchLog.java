package dev.zenith.compute;

import dev.zenith.BranchName;
import dev.zenith.BranchPoint;
import dev.zenith.Lsn;
import dev.zenith.PointInTime;
import dev.zenith.TimelineId;
import dev.zenith.ZenithException;
import dev.zenith.history.Catalog;
import dev.zenith.history.TableHistory;
import dev.zenith.history.Transaction;
import dev.zenith.history.TransactionReader;
import dev.zenith.model.LogEntry;
import dev.zenith.schema.DataComparison;
import dev.zenith.storage.RecoveryPlan;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Tag;
import dev.zenith.storage.Timeline;
import dev.zenith.storage.TimelineHistory;
import dev.zenith.storage.WalFileName;
import dev.zenith.storage.WalReader;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * {@code zenith log}: a branch's transactions newest first, read from the WAL the repository keeps (its
 * own, then its ancestors' below its branch point), each with the tables it changed, and the tags and
 * branches made along the way. Only names need a server: the branch's compute for the newest point, and
 * a read-only view just before a transaction that dropped a table's file, whose answers are kept, since
 * the past does not change. Thread-safe: each call reads on its own; the kept answers are synchronized.
 */
final class BranchLog {

    /** Read-only views a single log may start for names; past that, tables dropped earlier go unnamed. */
    private static final int MAX_VIEWS = 32;
    private static final int KEPT_CATALOGS = 256;
    /** Where two sides that are one branch now part: nowhere, so neither has changes of its own. */
    private static final Lsn BOTH_AT_THE_END = new Lsn(Long.MAX_VALUE);

    /** One branch's stretch of the history: from {@code start} up to where its child begins. */
    private record Section(Timeline timeline, Optional<BranchName> name, Lsn start) {
    }

    /** A tag or a branch made at {@code lsn}, shown on the newest transaction before it. */
    private record Ref(Lsn lsn, String text) {
    }

    private final Repository repository;
    private final Function<TimelineId, Optional<Path>> livePgWal;
    private final Function<BranchPoint, Catalog> catalogs;
    private final Map<String, Catalog> kept = Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Catalog> eldest) {
            return size() > KEPT_CATALOGS;
        }
    });

    /** {@code catalogs}: the catalog of a branch now ({@code at} null) or at a point, from a compute or a view. */
    BranchLog(Repository repository, Function<TimelineId, Optional<Path>> livePgWal, Function<BranchPoint, Catalog> catalogs) {
        this.repository = repository;
        this.livePgWal = livePgWal;
        this.catalogs = catalogs;
    }

    void write(BranchName branch, PointInTime since, PointInTime until, Set<String> tables, Integer limit, Consumer<LogEntry> out) {
        Timeline timeline = repository.requireBranch(branch);
        List<Section> sections = sections(timeline);
        Lsn to = until == null ? ownEnd(timeline) : pointLsn(until, sections);
        Lsn from = since instanceof PointInTime.AtTime || since == null ? null : pointLsn(since, sections);
        WalReader wal = reader(timeline);
        Catalog newest = catalogs.apply(new BranchPoint(branch, until)); // until null: the branch now
        int[] views = {0};
        TableHistory history = new TableHistory(new TransactionReader(wal, to, from), newest, t -> {
            Section s = sectionOf(sections, t.commitLsn());
            if (s.name().isEmpty()) {
                return Optional.empty();
            }
            String key = s.timeline().id() + "@" + t.commitLsn();
            Catalog known = kept.get(key);
            if (known == null && views[0] < MAX_VIEWS) {
                views[0]++;
                known = catalogs.apply(new BranchPoint(s.name().get(), new PointInTime.AtLsn(t.commitLsn())));
                kept.put(key, known);
            }
            return Optional.ofNullable(known);
        });
        List<Ref> refs = refs(sections);
        int sectionShown = 0;
        int shown = 0;
        List<String> pending = new ArrayList<>();
        while (limit == null || shown < limit) {
            Optional<TableHistory.Entry> next = history.next();
            if (next.isEmpty()) {
                break;
            }
            Transaction t = next.get().transaction();
            if (since instanceof PointInTime.AtTime at && t.time().isBefore(at.time())) {
                break;
            }
            while (!refs.isEmpty() && refs.getFirst().lsn().compareTo(t.commitLsn()) > 0) {
                pending.add(refs.removeFirst().text());
            }
            while (sectionShown < sections.size() - 1 && t.commitLsn().compareTo(sections.get(sectionShown).start()) < 0) {
                Section child = sections.get(sectionShown);
                Section parent = sections.get(sectionShown + 1);
                out.accept(new LogEntry(LogEntry.BRANCH_POINT, child.name().map(BranchName::value).orElse(null), child.start().toString(),
                        null, null, null, null, null, parent.name().map(BranchName::value).orElse(null)));
                sectionShown++;
            }
            List<LogEntry.TableChange> changes = next.get().tables().stream()
                    .filter(c -> tables.isEmpty() || matches(c.table(), tables))
                    .map(c -> new LogEntry.TableChange(c.table().displayName(), c.rows().inserted(), c.rows().updated(),
                            c.rows().deleted(), c.ddl() == null ? null : c.ddl().name().toLowerCase(Locale.ROOT)))
                    .toList();
            if (changes.isEmpty() || (until instanceof PointInTime.AtTime at && t.time().isAfter(at.time()))) {
                continue;
            }
            out.accept(new LogEntry(LogEntry.TRANSACTION, sectionOf(sections, t.commitLsn()).name().map(BranchName::value).orElse(null),
                    t.end().toString(), t.commitLsn().toString(), Integer.toUnsignedLong(t.xid()), t.time().toString(), changes,
                    pending.isEmpty() ? null : List.copyOf(pending), null));
            pending.clear();
            shown++;
        }
    }

    /**
     * The transactions that committed in [{@code from}, {@code to}) of the branch's history, oldest first,
     * without names: those that changed data or definitions ({@code zenith bisect}'s candidates).
     */
    List<Transaction> transactions(Timeline timeline, Lsn from, Lsn to) {
        TransactionReader reader = new TransactionReader(reader(timeline), to, from);
        List<Transaction> found = new ArrayList<>();
        for (Optional<Transaction> t = reader.next(); t.isPresent(); t = reader.next()) {
            Transaction tx = t.get();
            if (!tx.rows().isEmpty() || !tx.dropped().isEmpty() || !tx.invalidated().isEmpty()) {
                found.add(tx);
            }
        }
        Collections.reverse(found);
        return found;
    }

    /**
     * What {@code zenith diff --data} may skip: a table neither side changed since their common history,
     * as the WAL of each side since that point shows (any row, any DDL). Sides are a timeline and a
     * point ({@code null}: its end now). Branches of different roots share no history: nothing is skipped.
     */
    DataComparison.UnchangedCheck unchangedCheck(Timeline a, Lsn pointA, Timeline b, Lsn pointB) {
        Optional<Lsn> common = commonPoint(a, pointA, b, pointB);
        if (common.isEmpty()) {
            return (fromOid, fromFile, toOid, toFile) -> Optional.empty();
        }
        Touched left = touched(a, common.get(), pointA);
        Touched right = touched(b, common.get(), pointB);
        String why = "unchanged since their common history at " + common.get() + ": the WAL shows no change on either side";
        return (fromOid, fromFile, toOid, toFile) -> fromOid == toOid && !left.touches(fromOid, fromFile) && !right.touches(toOid, toFile)
                ? Optional.of(why) : Optional.empty();
    }

    /** Relations (by oid) and files (by number) that transactions changed, in any database. */
    private record Touched(Set<Long> oids, Set<Long> files) {
        boolean touches(long oid, long file) {
            return oids.contains(oid) || files.contains(file);
        }
    }

    private Touched touched(Timeline timeline, Lsn from, Lsn to) {
        Set<Long> oids = new HashSet<>();
        Set<Long> files = new HashSet<>();
        for (Transaction t : transactions(timeline, from, to)) {
            t.invalidated().forEach(id -> oids.add(id.oid()));
            t.rows().keySet().forEach(f -> files.add(f.relNumber()));
            t.dropped().forEach(f -> files.add(f.relNumber()));
        }
        return new Touched(oids, files);
    }

    /** Where two sides' histories part: the first timeline both descend through, up to the earlier of their points there. */
    private Optional<Lsn> commonPoint(Timeline a, Lsn pointA, Timeline b, Lsn pointB) {
        Map<TimelineId, Optional<Lsn>> reachA = reach(a, pointA);
        for (Map.Entry<TimelineId, Optional<Lsn>> link : reach(b, pointB).entrySet()) {
            Optional<Lsn> upToA = reachA.get(link.getKey());
            if (upToA != null) {
                Optional<Lsn> upToB = link.getValue();
                if (upToA.isEmpty()) {
                    return upToB.isPresent() ? upToB : Optional.of(BOTH_AT_THE_END);
                }
                return Optional.of(upToB.isEmpty() || upToA.get().isBefore(upToB.get()) ? upToA.get() : upToB.get());
            }
        }
        return Optional.empty();
    }

    /** The timelines a side's history runs through, the side's own first, each with how far it goes (empty: to its end). */
    private Map<TimelineId, Optional<Lsn>> reach(Timeline timeline, Lsn point) {
        Map<TimelineId, Optional<Lsn>> reach = new LinkedHashMap<>();
        reach.put(timeline.id(), Optional.ofNullable(point));
        for (Timeline t = timeline; t.metadata().ancestor() != null; t = repository.timeline(t.metadata().ancestor())) {
            reach.put(t.metadata().ancestor(), Optional.of(t.metadata().ancestorLsn()));
        }
        return reach;
    }

    /** One transaction as the log shows it (the log read down to it), if it touched a table. */
    Optional<LogEntry> entryOf(BranchName branch, Transaction t) {
        List<LogEntry> entries = new ArrayList<>();
        write(branch, new PointInTime.AtLsn(t.commitLsn()), null, Set.of(), null, e -> {
            if (t.commitLsn().toString().equals(e.before())) {
                entries.add(e);
            }
        });
        return entries.stream().findFirst();
    }

    private static boolean matches(Catalog.Relation table, Set<String> names) {
        return names.contains(table.name()) || names.contains(table.schema() + "." + table.name()) || names.contains(table.displayName());
    }

    /** The branch's own stretch first, then each ancestor's up to where the next one down begins. */
    private List<Section> sections(Timeline timeline) {
        List<Section> sections = new ArrayList<>();
        for (Timeline t = timeline; t != null; t = t.metadata().ancestor() == null ? null : repository.timeline(t.metadata().ancestor())) {
            sections.add(new Section(t, repository.branches().nameOf(t.id()), t.startLsn()));
        }
        return sections;
    }

    private static Section sectionOf(List<Section> sections, Lsn lsn) {
        return sections.stream().filter(s -> lsn.compareTo(s.start()) >= 0).findFirst().orElse(sections.getLast());
    }

    /** Where the branch's history ends: nowhere short of its WAL's end if it has WAL of its own, else at its branch point. */
    private Lsn ownEnd(Timeline timeline) {
        boolean own = timeline.wal().hasHistory() || livePgWal.apply(timeline.id()).isPresent()
                || timeline.metadata().last().lsn().compareTo(timeline.startLsn()) > 0;
        return own ? null : timeline.metadata().last().lsn();
    }

    /** An LSN or a tag of the history as a bound; a time bounds by commit time instead. */
    private Lsn pointLsn(PointInTime point, List<Section> sections) {
        return switch (point) {
            case PointInTime.AtLsn at -> at.lsn();
            case PointInTime.AtTag at -> {
                Tag tag = repository.tags().get(at.tag()).orElseThrow(() -> ZenithException.badRequest("there is no tag "
                        + at.tag() + " (zenith tag lists them); a point is an LSN like 0/16B5A50, a time like -1h, or a tag's name"));
                if (sections.stream().noneMatch(s -> s.timeline().id().equals(tag.timeline()))) {
                    throw ZenithException.badRequest("tag " + at.tag() + " is not a point of this branch's history",
                            "zenith tag shows which branch each tag is of");
                }
                yield tag.lsn();
            }
            case PointInTime.AtTime at -> null;
        };
    }

    /** Tags of the history and branches made from it, newest first. */
    private List<Ref> refs(List<Section> sections) {
        List<Ref> refs = new ArrayList<>();
        for (int i = 0; i < sections.size(); i++) {
            Section s = sections.get(i);
            Lsn end = i == 0 ? null : sections.get(i - 1).start();
            for (Tag tag : repository.tags().on(s.timeline().id())) {
                if (end == null || tag.lsn().compareTo(end) <= 0) {
                    refs.add(new Ref(tag.lsn(), "tag: " + tag.name()));
                }
            }
            for (Timeline child : repository.children(s.timeline().id())) {
                Lsn at = child.metadata().ancestorLsn();
                boolean onPath = i > 0 && child.id().equals(sections.get(i - 1).timeline().id());
                if (!onPath && (end == null || at.compareTo(end) <= 0)) {
                    repository.branches().nameOf(child.id()).ifPresent(n -> refs.add(new Ref(at, "branch: " + n)));
                }
            }
        }
        refs.sort(Comparator.comparing(Ref::lsn).reversed());
        return refs;
    }

    /** A reader over the WAL the branch's history is in: its own and its ancestors', as a recovery would read it. */
    private WalReader reader(Timeline timeline) {
        Map<WalFileName, Path> files = new TreeMap<>();
        RecoveryPlan.latest(repository, timeline).files(repository, livePgWal).forEach((name, file) -> files.put(name, file.path()));
        Optional<WalFileName> newestHistory = files.keySet().stream().filter(WalFileName::history).max(Comparator.comparingInt(WalFileName::tli));
        int tli = files.keySet().stream().mapToInt(WalFileName::tli).max().orElse(1);
        TimelineHistory history = newestHistory.filter(h -> h.tli() == tli).map(h -> TimelineHistory.read(tli, files.get(h)))
                .orElse(TimelineHistory.none(tli));
        return new WalReader(files, history);
    }
}
