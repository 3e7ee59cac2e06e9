package dev.zenith.api.model;

/** The bodies the API accepts; absent fields are null. */
public final class Requests {

    public record CreateBranch(String name, String parent, String at, String retention) {
    }

    public record SetRetention(String retention) {
    }

    public record CreateCompute(String branch, String name, Integer port, String idleTimeout) {
    }

    public record StartCompute(String idleTimeout, String at) {
    }

    public record RenameBranch(String to) {
    }

    public record ResetBranch(Boolean backup) {
    }

    public record StopCompute(Boolean destroy, Boolean suspend) {
    }

    /** A push or pull: the branches (none: all), and the caller's credentials for the remote. */
    public record Transfer(java.util.List<String> branches, RemoteCredentials credentials) {
    }

    private Requests() {
    }
}
