package dev.zenith.compute;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.zenith.AtomicFiles;
import dev.zenith.BranchName;
import dev.zenith.Locks;
import dev.zenith.Lsn;
import dev.zenith.TimelineId;
import dev.zenith.WalPoint;
import dev.zenith.ZenithException;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The compute nodes of a repository as {@code computes/NAME.json} records them: their names, their
 * ports, and the one way to find a node by its name or its branch's.
 *
 * <p>The map is concurrent; {@code allocation} serializes choosing a new node's name and port. Saving or
 * removing a node is done by the caller holding the node's timeline lock (lock order: timeline, then
 * {@code allocation}).
 */
final class NodeRegistry {

    /** A node on disk. The field names are the file format; {@code createdAt} of older files is ignored. */
    @JsonIgnoreProperties("createdAt")
    private record NodeRecord(String name, TimelineId timeline, int port, boolean wantRunning, String idleTimeout,
                              boolean onDemand, boolean suspended, Lsn readOnlyAt, int readOnlyTli) {

        static NodeRecord of(ComputeNode node) {
            WalPoint at = node.mode() instanceof ComputeMode.ReadOnly r ? r.at() : null;
            return new NodeRecord(node.name(), node.timeline(), node.port(), node.wantRunning(), node.idleTimeout(),
                    node.startedBy() == StartedBy.CONNECTION, node.suspended(), at == null ? null : at.lsn(),
                    at == null ? 0 : at.tli());
        }

        ComputeNode node() {
            return new ComputeNode(name, timeline, port, wantRunning, idleTimeout,
                    onDemand ? StartedBy.CONNECTION : StartedBy.HAND, suspended,
                    readOnlyAt == null ? ComputeMode.READ_WRITE : new ComputeMode.ReadOnly(new WalPoint(readOnlyAt, readOnlyTli)));
        }
    }

    private final Repository repository;
    private final Map<String, ComputeNode> nodes = new ConcurrentHashMap<>();
    private final ReentrantLock allocation = Locks.newLock("node allocation");
    /** Names and ports held for a standby spare ({@link #reserve}), which binds the port only once it runs; guarded by {@code allocation}. */
    private final Map<String, Integer> reserved = new java.util.HashMap<>();

    /**
     * A name and port held for a node to come: a standby spare runs under them, and the node of the branch that
     * takes it is registered with them ({@link #registerOn}). The name is held by its data directory, which
     * {@link #reserve} makes, the port by this registry until then.
     */
    record Reservation(String name, int port) {
    }

    NodeRegistry(Repository repository) {
        this.repository = repository;
        try (Stream<Path> files = Files.list(repository.computesDir())) {
            files.filter(f -> f.getFileName().toString().endsWith(".json"))
                    .map(f -> AtomicFiles.readJson(f, NodeRecord.class).node())
                    .forEach(n -> nodes.put(n.name(), n));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + repository.computesDir(), e);
        }
    }

    NodePaths paths(ComputeNode node) {
        return NodePaths.of(repository, node);
    }

    Optional<ComputeNode> get(String name) {
        return Optional.ofNullable(nodes.get(name));
    }

    /** Every node, by name. */
    List<ComputeNode> all() {
        return nodes.values().stream().sorted(Comparator.comparing(ComputeNode::name)).toList();
    }

    /** The branch's read-write node (read-only views of its past are not it). */
    Optional<ComputeNode> readWriteNodeOf(TimelineId timeline) {
        return nodes.values().stream().filter(n -> n.timeline().equals(timeline) && !n.isReadOnly()).findFirst();
    }

    /** The {@code pg_wal} of a timeline's running read-write compute: WAL not archived yet. */
    Optional<Path> livePgWal(TimelineId timeline) {
        return readWriteNodeOf(timeline).map(this::paths).filter(NodePaths::isRunning).map(p -> p.dataDir().resolve("pg_wal"));
    }

    /** A node by its name, else the read-write node of the branch of that name. */
    Optional<ComputeNode> lookup(String nameOrBranch) {
        BranchName.requireSafeName(nameOrBranch);
        ComputeNode node = nodes.get(nameOrBranch);
        if (node != null) {
            return Optional.of(node);
        }
        return repository.branch(new BranchName(nameOrBranch)).flatMap(t -> readWriteNodeOf(t.id()));
    }

    ComputeNode require(String nameOrBranch) {
        return lookup(nameOrBranch).orElseThrow(() -> ZenithException.notFound(
                "compute node \"" + BranchName.printable(nameOrBranch) + "\" does not exist", "zenith pg list shows the nodes"));
    }

    /** The name of the branch a node serves; null once the branch is gone. */
    BranchName branchOf(ComputeNode node) {
        return repository.branches().nameOf(node.timeline()).orElse(null);
    }

    /** A name and a port for a node to come, its data directory made empty to hold the name. */
    Reservation reserve() {
        allocation.lock();
        try {
            String name = nextName();
            int port = allocatePort(null);
            Files.createDirectories(repository.dataDirs().resolve(name));
            reserved.put(name, port);
            return new Reservation(name, port);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot hold a data directory in " + repository.dataDirs(), e);
        } finally {
            allocation.unlock();
        }
    }

    /** Lets a reservation's port go; its data directory is the caller's to remove. */
    void release(Reservation reservation) {
        allocation.lock();
        try {
            reserved.remove(reservation.name());
        } finally {
            allocation.unlock();
        }
    }

    /** As {@link #register}, under a reservation's name and port, which it then stops holding. */
    ComputeNode registerOn(Reservation reservation, Timeline timeline, BranchName branch, String idleTimeout) {
        allocation.lock();
        try {
            reserved.remove(reservation.name());
            return register(timeline, branch, reservation.name(), reservation::port, idleTimeout);
        } finally {
            allocation.unlock();
        }
    }

    /** A new read-write node for a branch, in memory until saved; refused when the branch has one. */
    ComputeNode register(Timeline timeline, BranchName branch, String name, Integer port, String idleTimeout) {
        allocation.lock();
        try {
            return register(timeline, branch, name, () -> allocatePort(port), idleTimeout);
        } finally {
            allocation.unlock();
        }
    }

    /** Registers a read-write node; the caller holds {@code allocation}. */
    private ComputeNode register(Timeline timeline, BranchName branch, String name, java.util.function.IntSupplier port,
                                 String idleTimeout) {
        Optional<ComputeNode> existing = readWriteNodeOf(timeline.id());
        if (existing.isPresent()) {
            throw ZenithException.conflict("branch \"" + branch + "\" already has compute node " + existing.get().name(),
                    "start it with zenith pg start " + existing.get().name()
                            + " (a branch has at most one read-write compute)");
        }
        if (name != null && !BranchName.isSafeName(name)) {
            throw ZenithException.badRequest("invalid node name \"" + BranchName.printable(name)
                    + "\": use 1 to 63 letters, digits, '_' or '-', starting with a letter or digit");
        }
        if (name != null && (nodes.containsKey(name) || reserved.containsKey(name))) {
            throw ZenithException.conflict("compute node " + name + " already exists",
                    "choose another --name; zenith pg list shows the nodes");
        }
        ComputeNode node = new ComputeNode(name != null ? name : nextName(), timeline.id(), port.getAsInt(), false,
                idleTimeout, StartedBy.HAND, false, ComputeMode.READ_WRITE);
        nodes.put(node.name(), node);
        return node;
    }

    /** The read-only node showing a point of a timeline: the one already there, or a new one. */
    ComputeNode registerReadOnly(TimelineId timeline, WalPoint at, String idleTimeout) {
        String name = String.format("ro_%s_%016X", timeline.value().substring(0, 8), at.lsn().value());
        allocation.lock();
        try {
            ComputeNode existing = nodes.get(name);
            if (existing != null) {
                return existing;
            }
            ComputeNode node = new ComputeNode(name, timeline, allocatePort(null), false, idleTimeout,
                    StartedBy.CONNECTION, false, new ComputeMode.ReadOnly(at));
            nodes.put(name, node);
            return node;
        } finally {
            allocation.unlock();
        }
    }

    void save(ComputeNode node) {
        AtomicFiles.writeJson(paths(node).record(), NodeRecord.of(node));
        nodes.put(node.name(), node);
    }

    /** Forgets a node that was registered but never saved (its creation failed). */
    void unregister(ComputeNode node) {
        nodes.remove(node.name());
    }

    /** Removes a node and its record. */
    void remove(ComputeNode node) {
        try {
            Files.deleteIfExists(paths(node).record());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + paths(node).record(), e);
        }
        nodes.remove(node.name());
    }

    /**
     * The Postgres log of a node named by itself or by its branch. Read from the records alone, so
     * {@code zenith pg logs} works with the daemon stopped.
     */
    static Path logFile(Repository repository, String nameOrBranch) {
        NodeRegistry registry = new NodeRegistry(repository);
        return registry.lookup(nameOrBranch).map(n -> NodePaths.logFile(repository, n.name())).orElseThrow(() ->
                repository.branch(new BranchName(nameOrBranch)).isPresent()
                        ? ZenithException.notFound("branch \"" + nameOrBranch + "\" has no compute yet",
                                "its log starts at its first start: zenith pg start " + nameOrBranch + ", or connect to it")
                        : ZenithException.notFound("no compute node or branch is named \"" + nameOrBranch + "\"",
                                "zenith pg list shows the nodes"));
    }

    private String nextName() {
        for (int i = 1; ; i++) {
            String name = "pg" + i;
            if (!nodes.containsKey(name) && !Files.exists(repository.dataDirs().resolve(name))) {
                return name;
            }
        }
    }

    private int allocatePort(Integer requested) {
        Set<Integer> taken = nodes.values().stream().map(ComputeNode::port).collect(Collectors.toSet());
        taken.addAll(reserved.values());
        if (requested != null) {
            if (requested < 1 || requested > 65535) {
                throw ZenithException.badRequest("invalid port " + requested + ": use 1 to 65535");
            }
            Optional<ComputeNode> owner = nodes.values().stream().filter(n -> n.port() == requested).findFirst();
            if (owner.isPresent()) {
                throw ZenithException.conflict("port " + requested + " is already used by compute node " + owner.get().name(),
                        "choose another --port, or leave it out to take the next free one");
            }
            if (!isFree(requested)) {
                throw ZenithException.conflict("port " + requested + " is in use by another program",
                        "choose another --port, or leave it out to take the next free one");
            }
            return requested;
        }
        for (int port = repository.config().computePortBase(); port <= 65535; port++) {
            if (!taken.contains(port) && isFree(port)) {
                return port;
            }
        }
        throw ZenithException.failed("no free port from " + repository.config().computePortBase() + " up", "stop other programs");
    }

    private static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress("127.0.0.1", port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
