package dev.zenith.model;

import java.util.List;

/** What the console shows, pushed on {@code /v1/events} whenever it changes. */
public record ConsoleState(List<BranchInfo> branches, List<ComputeStatus> computes,
                           List<OperationInfo> operations, String auth, String superuser,
                           List<BranchRemoteState> remotes, List<TagInfo> tags) {
}
