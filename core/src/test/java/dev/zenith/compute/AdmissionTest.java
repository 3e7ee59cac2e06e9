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
        List<ComputeNode> victims = Admission.victims(List.of(new Admission.Candidate(a, false, 0, 300),
                new Admission.Candidate(b, false, 0, 100), new Admission.Candidate(c, false, 0, 200)));
        assertThat(victims).containsExactly(b, c, a);
    }

    @Test
    void aComputeAClientHoldsIsNeverAVictim() {
        ComputeNode held = node("held");
        ComputeNode idle = node("idle");
        assertThat(Admission.victims(List.of(new Admission.Candidate(held, false, 1, 0),
                new Admission.Candidate(idle, false, 0, 500)))).containsExactly(idle);
    }

    @Test
    void aStartingComputeIsNeverAVictim() {
        assertThat(Admission.victims(List.of(new Admission.Candidate(node("s"), true, 0, 0)))).isEmpty();
    }

    @Test
    void atTheLimitWithNothingIdleTheStartIsRefusedNamingTheLimit() {
        Leases leases = new Leases();
        List<ComputeNode> nodes = new ArrayList<>();
        Admission admission = admission(2, leases, nodes, 3);
        admission.admit(nodes.get(0), n -> false);
        admission.admit(nodes.get(1), n -> false);
        assertThatThrownBy(() -> admission.admit(nodes.get(2), n -> false)).isInstanceOf(ZenithException.class)
                .hasMessageContaining("maxComputes is 2").extracting(e -> ((ZenithException) e).kind())
                .isEqualTo(ZenithException.Kind.LIMIT);
        assertThat(leases.isStarting(nodes.get(2).name())).isFalse();
    }

    @Test
    void aStartThatEndedWithoutRunningFreesItsPlace() {
        Leases leases = new Leases();
        List<ComputeNode> nodes = new ArrayList<>();
        Admission admission = admission(1, leases, nodes, 2);
        admission.admit(nodes.get(0), n -> false);
        List<ComputeNode> asked = new ArrayList<>();
        assertThatThrownBy(() -> admission.admit(nodes.get(1), asked::add)).isInstanceOf(ZenithException.class);
        assertThat(asked).as("a starting compute is not offered for suspension").isEmpty();
        leases.doneStarting(nodes.get(0).name()); // its start failed: nothing runs
        admission.admit(nodes.get(1), asked::add);
        assertThat(leases.isStarting(nodes.get(1).name())).isTrue();
        assertThat(asked).isEmpty();
    }

    /** Admission under {@code max} over a repository with {@code count} branches, each with a node (added to {@code nodes}). */
    private Admission admission(int max, Leases leases, List<ComputeNode> nodes, int count) {
        Repository repository = Repositories.withRoot(dir, "0/1000028");
        NodeRegistry registry = new NodeRegistry(repository);
        Timeline main = repository.requireBranch(BranchName.MAIN);
        for (int i = 0; i < count; i++) {
            Timeline t = repository.createBranch(new BranchName("b" + i), main, new WalPoint(Lsn.parse("0/1000028"), 1), null, null);
            nodes.add(registry.register(t, new BranchName("b" + i), null, null, null));
        }
        return new Admission(max, dir.resolve("config.json"), registry, leases);
    }
}
