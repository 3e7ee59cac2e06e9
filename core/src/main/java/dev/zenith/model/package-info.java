/**
 * The wire types of the management API: what the daemon answers and the CLI reads. A leaf package,
 * depending only on the shared value types, so the daemon's components return these records and the
 * CLI compiles without any server class (as Neon's {@code compute_api} crate serves both sides).
 */
package dev.zenith.model;
