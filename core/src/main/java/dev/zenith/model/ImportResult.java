package dev.zenith.model;

/**
 * What {@code zenith import} made.
 *
 * @param branch    the new root branch
 * @param source    what it came from, with any password left out
 * @param method    physical or logical
 * @param why       why a server was imported logically (the role has no REPLICATION, ...); null otherwise
 * @param pgVersion the PostgreSQL major version the branch runs
 * @param database  the database to connect to for the imported data
 * @param user      the role to connect as: the repository's superuser, or the source's for a physical copy (whose computes have both)
 * @param following whether the branch keeps receiving the source's WAL
 * @param masked    whether the copy was masked by rules before it became the branch
 * @param bytes     the size of the branch's data directory
 * @param millis    how long the import took
 */
public record ImportResult(String branch, String source, ImportMethod method, String why, int pgVersion, String database,
                           String user, boolean following, boolean masked, long bytes, long millis) {
}
