package dev.zenith.model;

/** The bodies the API accepts; absent fields are null. */
public final class Requests {

    public record CreateBranch(String name, String parent, String at, String retention, String expires) {
    }

    /** {@code 2h}, {@code 2026-12-01T00:00Z} or {@code never}. */
    public record ExpireBranch(String expires) {
    }

    public record SetRetention(String retention) {
    }

    public record CreateCompute(String branch, String name, Integer port, String idleTimeout) {
    }

    public record StartCompute(String idleTimeout, String at) {
    }

    public record RenameBranch(String to) {
    }

    /** A reset to the parent's latest state, or to a tag ({@code to}) of the branch's own or another history. */
    public record ResetBranch(Boolean backup, String to) {
    }

    public record CreateTag(String name, String branch, String at) {
    }

    /** Two sides of a schema diff, each {@code BRANCH[@POINT]}. */
    public record Diff(String from, String to) {
    }

    public record StopCompute(Boolean destroy, Boolean suspend) {
    }

    /** A push or pull: the branches (none: all), and the caller's credentials for the remote. */
    public record Transfer(java.util.List<String> branches, RemoteCredentials credentials) {
    }

    private Requests() {
    }
}
