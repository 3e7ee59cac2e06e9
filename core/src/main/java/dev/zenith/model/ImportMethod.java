package dev.zenith.model;

/** How a database was brought in. */
public enum ImportMethod {
    /** A base backup of the source's cluster: every database, role and extension, byte for byte. */
    PHYSICAL,
    /** pg_dump's SQL restored into a fresh cluster (or a dump file restored so). */
    LOGICAL
}
