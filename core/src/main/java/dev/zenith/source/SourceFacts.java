package dev.zenith.source;

import dev.zenith.ZenithException;

import java.util.List;

/**
 * What an import learns of a source server before any work, asked over an ordinary connection.
 *
 * @param versionNum         {@code server_version_num}: 150004 for 15.4
 * @param user               the role the connection string logs in as
 * @param database           the database it names
 * @param bootstrapSuperuser the superuser initdb made on the source (OID 10), which a physical copy logs in as first
 * @param mayReplicate       whether that role has REPLICATION (or is a superuser): a physical copy is possible
 * @param clusterBytes       the size of every database the role may connect to: what a base backup copies, about
 * @param databaseBytes      the size of the named database: what a dump reads, about
 */
public record SourceFacts(int versionNum, String user, String database, String bootstrapSuperuser, boolean mayReplicate,
                          long clusterBytes, long databaseBytes) {

    static final String QUERY = "SELECT current_setting('server_version_num'), current_user, current_database(),"
            + " (SELECT rolname FROM pg_roles WHERE oid = 10),"
            + " (SELECT rolsuper OR rolreplication FROM pg_roles WHERE rolname = current_user),"
            + " (SELECT sum(pg_database_size(oid)) FROM pg_database WHERE has_database_privilege(oid, 'CONNECT')),"
            + " pg_database_size(current_database())";

    public int major() {
        return versionNum / 10000;
    }

    /** Reads the answer of {@link #QUERY} as {@code psql -A -t -F '|'} prints it. */
    static SourceFacts parse(String line) {
        List<String> f = List.of(line.strip().split("\\|", -1));
        if (f.size() != 7) {
            throw ZenithException.failed("cannot read what the source said of itself: \"" + line.strip() + "\"", null);
        }
        return new SourceFacts(Integer.parseInt(f.get(0)), f.get(1), f.get(2), f.get(3), "t".equals(f.get(4)),
                f.get(5).isEmpty() ? 0 : Long.parseLong(f.get(5)), Long.parseLong(f.get(6)));
    }
}
