package dev.zenith.api;

import dev.zenith.BranchName;
import dev.zenith.BranchPoint;
import dev.zenith.MaskRules;
import dev.zenith.PointInTime;
import dev.zenith.TagName;
import dev.zenith.compute.BranchOperations.Backup;
import dev.zenith.compute.BranchOperations.Protection;
import dev.zenith.compute.DiskUse;
import dev.zenith.compute.Imports;
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

/**
 * Everything the API serves, as one seam: the daemon's computes behind it ({@link ComputesBackend}),
 * or a fake when {@code ApiServerTest} checks routes, status codes and error bodies without a daemon.
 * Each method answers one endpoint (docs/API.md); a refusal is a {@link dev.zenith.ZenithException},
 * whose kind the server turns into a status.
 */
public interface ApiBackend {

    /** The branches, with the computes' states as {@code computes} (read once by the caller) says them. */
    List<BranchInfo> branches(List<ComputeStatus> computes, DiskUse disk);

    BranchCreated createBranch(BranchName name, BranchName parent, PointInTime at, String retention, String expires);

    /** A new root with {@code parent}'s schema, roles and extensions at {@code at} (null: now) and no rows. */
    BranchCreated createSchemaOnlyBranch(BranchName name, BranchName parent, PointInTime at);

    /** A new root with {@code parent}'s data at {@code at} (null: now), the columns {@code rules} name masked. */
    BranchCreated createMaskedBranch(BranchName name, BranchName parent, PointInTime at, MaskRules rules);

    BranchDeleted deleteBranch(BranchName name);

    void renameBranch(BranchName from, BranchName to);

    BranchReset resetBranch(BranchName name, Backup backup, Optional<TagName> to);

    void setRetention(BranchName name, String window);

    /** The branch's new expiry, null for never. */
    Instant expire(BranchName name, String expires);

    void protect(BranchName name, Protection protection);

    List<TagInfo> tags();

    TagInfo createTag(TagName name, BranchName branch, PointInTime at);

    TagInfo deleteTag(TagName name);

    SchemaDiff diff(BranchPoint from, BranchPoint to);

    dev.zenith.model.DataDiff diffData(BranchPoint from, BranchPoint to, java.util.Set<String> tables, int limit);

    /** {@code zenith bisect}: the search's steps, each handed to {@code out} as it is taken. */
    void bisect(BranchName branch, String query, PointInTime good, PointInTime bad, String expect,
                java.util.function.Consumer<dev.zenith.model.BisectStep> out);

    /** {@code zenith log}: the branch's transactions newest first, each handed to {@code out} as soon as it is known. */
    void log(BranchName branch, PointInTime since, PointInTime until, java.util.Set<String> tables, Integer limit,
             java.util.function.Consumer<dev.zenith.model.LogEntry> out);

    List<ComputeStatus> computes();

    /** The spare copies of images kept ahead of new branches. */
    SpareStatus spares();

    ComputeStatus createCompute(BranchName branch, String name, Integer port, String idleTimeout);

    ComputeStatus startCompute(String nameOrBranch, String idleTimeout);

    ComputeStatus startReadOnly(BranchName branch, PointInTime at);

    ComputeStatus stopCompute(String nameOrBranch, StopMode mode);

    List<OperationInfo> operations();

    /** Each branch against each remote, asking the remotes now. */
    List<BranchRemoteState> remoteStates(RemoteCredentials given);

    /** Each branch against each remote as last asked, without asking again. */
    List<BranchRemoteState> knownRemoteStates();

    List<PushSummary> push(String remote, List<BranchName> branches, RemoteCredentials given);

    List<PullSummary> pull(String remote, List<BranchName> branches, RemoteCredentials given);

    GcResult collectGarbage();

    /** A database from elsewhere made a new root branch. */
    ImportResult importDatabase(Imports.Request request);

    /** A followed branch stops receiving its source's WAL. */
    void stopFollowing(BranchName branch);
}
