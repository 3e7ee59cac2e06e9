package dev.zenith;

/**
 * A place in a branch's WAL: an LSN and the Postgres timeline id ("tli") in force there. Postgres
 * numbers its timelines per cluster, so an LSN alone does not say which WAL files hold it.
 */
public record WalPoint(Lsn lsn, int tli) {

    @Override
    public String toString() {
        return lsn + " (tli " + tli + ")";
    }
}
