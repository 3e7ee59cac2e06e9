package dev.zenith.model;

import java.util.List;

/**
 * What {@code zenith clone} made: the repository, each branch with the remote manifest it holds, how many
 * timelines (branches and their ancestors) it fetched and their files' bytes.
 */
public record CloneSummary(String remote, String repository, List<Branch> branches, int timelinesFetched, long bytesFetched,
                           long millis) {

    /** A cloned branch and the number of the remote's manifest it was cloned from. */
    public record Branch(String branch, long manifest) {
    }
}
