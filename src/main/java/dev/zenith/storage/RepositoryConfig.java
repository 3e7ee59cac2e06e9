package dev.zenith.storage;

/**
 * {@code config.json}: settings chosen at {@code zenith init}, editable by hand.
 *
 * @param apiPort         the management API's port on 127.0.0.1
 * @param computePortBase the first port {@code zenith pg create} tries
 * @param pgBin           a system PostgreSQL's bin directory, or null for the bundled binaries
 * @param osUser          the OS user Postgres runs as when zenith runs as root, or null for the default
 * @param superuser       the Postgres superuser initdb created: the name of the OS user who ran init,
 *                        so that psql connects without a user name, as with a local Postgres
 */
public record RepositoryConfig(int apiPort, int computePortBase, String pgBin, String osUser, String superuser) {

    public static final int DEFAULT_API_PORT = 64000;
    public static final int DEFAULT_COMPUTE_PORT_BASE = 55432;
}
