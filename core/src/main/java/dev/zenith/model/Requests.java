package dev.zenith.model;

/** The bodies the API accepts; absent fields are null. */
public final class Requests {

    /** {@code data}: {@link BranchData}, {@code HISTORY} when absent; {@code mask}: the rules' YAML, with {@code MASKED}. */
    public record CreateBranch(String name, String parent, String at, String retention, String expires, BranchData data,
                               String mask) {
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

    /**
     * An import: {@code source} as typed (a connection string, or a dump's path relative to {@code cwd}),
     * and the caller's libpq variables ({@code PGPASSWORD}, {@code PGPASSFILE}, ...), used for this import
     * only and stored (owner-only) only for a branch that follows its source, which must reconnect. The
     * filters are pg_dump's and make the import logical.
     */
    public record Import(String source, String cwd, String as, Integer pgVersion, Boolean logical,
                         java.util.List<String> schemas, java.util.List<String> tables,
                         java.util.List<String> excludeTableData, Boolean schemaOnly, Boolean follow, String slot,
                         java.util.Map<String, String> environment, String mask) {

        /** Shown in logs: the environment (a password, perhaps) is left out. */
        @Override
        public String toString() {
            return "Import[as=" + as + ", pgVersion=" + pgVersion + ", logical=" + logical + "]";
        }
    }

    private Requests() {
    }

    /** {@code zenith log}: points as {@code --at} takes them (null: no bound), table names, at most {@code limit} transactions (null: all). */
    public record Log(String branch, String since, String until, java.util.List<String> tables, Integer limit) {
    }

    /** {@code zenith bisect}: points as {@code --at} takes them (null: the branch's start, its end now). */
    public record Bisect(String branch, String query, String good, String bad, String expect) {
    }

    /** {@code zenith diff --data}: the tables to compare (none: all), at most {@code limit} rows listed each (null: 20). */
    public record DataDiff(String from, String to, java.util.List<String> tables, Integer limit) {
    }
}
