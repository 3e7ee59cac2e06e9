package dev.zenith.api;

import dev.zenith.BranchName;
import dev.zenith.MaskRules;
import dev.zenith.BranchPoint;
import dev.zenith.PointInTime;
import dev.zenith.TagName;
import dev.zenith.compute.BranchOperations.Backup;
import dev.zenith.compute.BranchOperations.Protection;
import dev.zenith.compute.Computes;
import dev.zenith.compute.Imports;
import dev.zenith.compute.DiskUse;
import dev.zenith.compute.StopMode;
import dev.zenith.model.SpareStatus;
import dev.zenith.model.BranchCreated;
import dev.zenith.model.BranchDeleted;
import dev.zenith.model.BranchInfo;
import dev.zenith.model.BranchRemoteState;
import dev.zenith.model.BranchReset;
import dev.zenith.model.ComputeStatus;
import dev.zenith.model.GcResult;
import dev.zenith.model.ImportResult;
import dev.zenith.model.OperationInfo;
import dev.zenith.model.PullSummary;
import dev.zenith.model.PushSummary;
import dev.zenith.model.RemoteCredentials;
import dev.zenith.model.SchemaDiff;
import dev.zenith.model.TagInfo;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** The API's backend in the daemon: each endpoint handed to the component of {@link Computes} that owns it. */
public final class ComputesBackend implements ApiBackend {

    private final Computes computes;

    public ComputesBackend(Computes computes) {
        this.computes = computes;
    }

    @Override
    public List<BranchInfo> branches(List<ComputeStatus> nodes, DiskUse disk) {
        return computes.branches().list(nodes, disk);
    }

    @Override
    public BranchCreated createBranch(BranchName name, BranchName parent, PointInTime at, String retention, String expires) {
        return computes.branches().create(name, parent, at, retention, expires);
    }

    @Override
    public BranchCreated createSchemaOnlyBranch(BranchName name, BranchName parent, PointInTime at) {
        return computes.derivedRoots().schemaOnly(name, parent, at);
    }

    @Override
    public BranchCreated createMaskedBranch(BranchName name, BranchName parent, PointInTime at, MaskRules rules) {
        return computes.derivedRoots().masked(name, parent, at, rules);
    }

    @Override
    public BranchDeleted deleteBranch(BranchName name) {
        return computes.branches().delete(name);
    }

    @Override
    public void renameBranch(BranchName from, BranchName to) {
        computes.branches().rename(from, to);
    }

    @Override
    public BranchReset resetBranch(BranchName name, Backup backup, Optional<TagName> to) {
        return computes.branches().reset(name, backup, to);
    }

    @Override
    public void setRetention(BranchName name, String window) {
        computes.branches().setRetention(name, window);
    }

    @Override
    public Instant expire(BranchName name, String expires) {
        return computes.branches().expire(name, expires);
    }

    @Override
    public void protect(BranchName name, Protection protection) {
        computes.branches().protect(name, protection);
    }

    @Override
    public List<TagInfo> tags() {
        return computes.tags().list();
    }

    @Override
    public TagInfo createTag(TagName name, BranchName branch, PointInTime at) {
        return computes.tags().create(name, branch, at);
    }

    @Override
    public TagInfo deleteTag(TagName name) {
        return computes.tags().delete(name);
    }

    @Override
    public SchemaDiff diff(BranchPoint from, BranchPoint to) {
        return computes.diff(from, to);
    }

    @Override
    public void log(BranchName branch, PointInTime since, PointInTime until, java.util.Set<String> tables, Integer limit,
                    java.util.function.Consumer<dev.zenith.model.LogEntry> out) {
        computes.log(branch, since, until, tables, limit, out);
    }

    @Override
    public void bisect(BranchName branch, String query, PointInTime good, PointInTime bad, String expect,
                       java.util.function.Consumer<dev.zenith.model.BisectStep> out) {
        computes.bisect(branch, query, good, bad, expect, out);
    }

    @Override
    public dev.zenith.model.DataDiff diffData(BranchPoint from, BranchPoint to, java.util.Set<String> tables, int limit) {
        return computes.diffData(from, to, tables, limit);
    }

    @Override
    public List<ComputeStatus> computes() {
        return computes.list();
    }

    @Override
    public SpareStatus spares() {
        return computes.spares();
    }

    @Override
    public ComputeStatus createCompute(BranchName branch, String name, Integer port, String idleTimeout) {
        return computes.create(branch, name, port, idleTimeout);
    }

    @Override
    public ComputeStatus startCompute(String nameOrBranch, String idleTimeout) {
        return computes.start(nameOrBranch, idleTimeout);
    }

    @Override
    public ComputeStatus startReadOnly(BranchName branch, PointInTime at) {
        return computes.startReadOnly(branch, at);
    }

    @Override
    public ComputeStatus stopCompute(String nameOrBranch, StopMode mode) {
        return computes.stop(nameOrBranch, mode);
    }

    @Override
    public List<OperationInfo> operations() {
        return computes.operations();
    }

    @Override
    public List<BranchRemoteState> remoteStates(RemoteCredentials given) {
        return computes.sync().states(given);
    }

    @Override
    public List<BranchRemoteState> knownRemoteStates() {
        return computes.sync().knownStates();
    }

    @Override
    public List<PushSummary> push(String remote, List<BranchName> branches, RemoteCredentials given) {
        return computes.sync().push(remote, branches, given);
    }

    @Override
    public List<PullSummary> pull(String remote, List<BranchName> branches, RemoteCredentials given) {
        return computes.sync().pull(remote, branches, given);
    }

    @Override
    public GcResult collectGarbage() {
        return computes.collectGarbage();
    }

    @Override
    public ImportResult importDatabase(Imports.Request request) {
        return computes.imports().run(request);
    }

    @Override
    public void stopFollowing(BranchName branch) {
        computes.stopFollowing(branch);
    }
}
