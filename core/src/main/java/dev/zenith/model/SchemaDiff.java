package dev.zenith.model;

import java.util.List;

/**
 * What {@code zenith diff} found between two branches or points ({@code main@before-migration}): each
 * object added, removed or changed with its normalized definitions, every table's estimated rows on each
 * side (null where it does not exist), and the whole as a unified diff.
 */
public record SchemaDiff(String from, String to, boolean equal, List<Change> changes, List<TableRows> tables, String unified) {

    /** One object that differs; {@code kind} is table, index, view, ...; a definition is null on the side without it. */
    public record Change(String kind, String name, String change, String from, String to) {
    }

    public record TableRows(String table, Long from, Long to) {
    }
}
