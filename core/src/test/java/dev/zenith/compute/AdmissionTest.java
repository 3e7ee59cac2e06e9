package dev.zenith.compute;

import dev.zenith.BranchName;
import dev.zenith.Lsn;
import dev.zenith.TimelineId;
import dev.zenith.WalPoint;
import dev.zenith.ZenithException;
import dev.zenith.storage.Repositories;
import dev.zenith.storage.Repository;
import dev.zenith.storage.Timeline;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Who makes room under maxComputes. */
class AdmissionTest {

    @TempDir
    Path dir;

    private static ComputeNode node(String name) {
        return new ComputeNode(name, TimelineId.generate(), 1, true, null, StartedBy.CONNECTION, false, ComputeMode.READ_WRITE);
    }

    @Test
    void theLeastRecentlyUsedIdleComputeGoesFirst() {
        ComputeNode a = node("a");
        ComputeNode b = node("b");
        ComputeNode c = node("c");
        List<ComputeNode> victims = Admission.victims(List.of(new Admission.Candidate(a, NodeState.RUNNING, 0, 300),
                new Admission.Candidate(b, NodeState.RUNNING, 0, 100), new Admission.Candidate(c, NodeState.RUNNING, 0, 200)));
        assertThat(victims).containsExactly(b, c, a);
    }

    @Test
    void aComputeAClientHoldsIsNeverAVictim() {
        ComputeNode held = node("held");
        ComputeNode idle = node("idle");
        assertThat(Admission.victims(List.of(new Admission.Candidate(held, NodeState.RUNNING, 1, 0),
                new Admission.Candidate(idle, NodeState.RUNNING, 0, 500)))).containsExactly(idle);
    }

    @Test
    void aStartingOrStoppingComputeIsNeverAVictim() {
        assertThat(Admission.victims(List.of(new Admission.Candidate(node("s"), NodeState.STARTING, 0, 0),
                new Admission.Candidate(node("t"), NodeState.STOPPING, 0, 0)))).isEmpty();
    }

    @Test
    void atTheLimitWithNothingIdleTheStartIsRefusedNamingTheLimit() {
        NodeStates states = new NodeStates();
        List<ComputeNode> nodes = new ArrayList<>();
        Admission admission = admission(2, states, nodes, 3);
        admission.reserve(nodes.get(0));
        admission.reserve(nodes.get(1));
        assertThatThrownBy(() -> admission.makeRoom(nodes.get(2), n -> false)).isInstanceOf(ZenithException.class)
                .hasMessageContaining("maxComputes is 2").extracting(e -> ((ZenithException) e).kind())
                .isEqualTo(ZenithException.Kind.LIMIT);
        assertThatThrownBy(() -> admission.reserve(nodes.get(2))).isInstanceOf(ZenithException.class)
                .hasMessageContaining("maxComputes is 2");
        assertThat(states.of(nodes.get(2).name())).isEqualTo(NodeState.STOPPED);
    }

    @Test
    void aStartThatEndedWithoutRunningFreesItsPlace() {
        NodeStates states = new NodeStates();
        List<ComputeNode> nodes = new ArrayList<>();
        Admission admission = admission(1, states, nodes, 2);
        admission.reserve(nodes.get(0));
        List<ComputeNode> asked = new ArrayList<>();
        assertThatThrownBy(() -> admission.makeRoom(nodes.get(1), asked::add)).isInstanceOf(ZenithException.class);
        assertThat(asked).as("a starting compute is not offered for suspension").isEmpty();
        states.require(nodes.get(0).name(), NodeState.STARTING, NodeState.STOPPED); // its start failed: nothing runs
        admission.makeRoom(nodes.get(1), asked::add);
        admission.reserve(nodes.get(1));
        assertThat(states.of(nodes.get(1).name())).isEqualTo(NodeState.STARTING);
        assertThat(asked).isEmpty();
    }

    @Test
    void atTheLimitAnIdleRunningComputeIsOfferedAndItsSuspensionMakesTheRoom() {
        NodeStates states = new NodeStates();
        List<ComputeNode> nodes = new ArrayList<>();
        Admission admission = admission(1, states, nodes, 2);
        admission.reserve(nodes.get(0));
        states.require(nodes.get(0).name(), NodeState.STARTING, NodeState.RUNNING);
        admission.makeRoom(nodes.get(1), victim -> {
            states.require(victim.name(), NodeState.RUNNING, NodeState.STOPPING);
            states.require(victim.name(), NodeState.STOPPING, NodeState.STOPPED);
            return true;
        });
        admission.reserve(nodes.get(1));
        assertThat(states.of(nodes.get(1).name())).isEqualTo(NodeState.STARTING);
    }

    @Test
    void aStateChangesOnlyAlongItsEdges() {
        NodeStates states = new NodeStates();
        assertThat(states.of("n")).isEqualTo(NodeState.STOPPED);
        assertThat(states.change("n", NodeState.RUNNING, NodeState.STOPPING)).as("not running: nothing to stop").isFalse();
        assertThatThrownBy(() -> states.change("n", NodeState.STOPPED, NodeState.RUNNING)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cannot go from STOPPED to RUNNING");
        states.require("n", NodeState.STOPPED, NodeState.STARTING);
        assertThatThrownBy(() -> states.require("n", NodeState.STOPPED, NodeState.STARTING))
                .as("two starts: the second loses").isInstanceOf(IllegalStateException.class);
        assertThat(NodeState.STARTING.admitsClients()).isFalse();
        assertThat(NodeState.STOPPING.admitsClients()).isFalse();
        assertThat(NodeState.RUNNING.admitsClients()).isTrue();
    }

    /** Admission under {@code max} over a repository with {@code count} branches, each with a node (added to {@code nodes}). */
    private Admission admission(int max, NodeStates states, List<ComputeNode> nodes, int count) {
        Repository repository = Repositories.withRoot(dir, "0/1000028");
        NodeRegistry registry = new NodeRegistry(repository);
        Timeline main = repository.requireBranch(BranchName.MAIN);
        for (int i = 0; i < count; i++) {
            Timeline t = repository.createBranch(new BranchName("b" + i), main, new WalPoint(Lsn.parse("0/1000028"), 1), null, null);
            nodes.add(registry.register(t, new BranchName("b" + i), null, null, null));
        }
        return new Admission(max, dir.resolve("config.json"), registry, states, new Leases(node -> states.of(node).admitsClients()));
    }
}
