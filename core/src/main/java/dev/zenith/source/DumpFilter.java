package dev.zenith.source;

import java.util.ArrayList;
import java.util.List;

/**
 * What of a database a logical import takes, in pg_dump's own terms, passed on as they are.
 *
 * @param schemas          {@code --schema}: only these schemas (patterns)
 * @param tables           {@code --table}: only these tables (patterns)
 * @param excludeTableData {@code --exclude-table-data}: these tables' definitions without their rows
 * @param schemaOnly       {@code --schema-only}: definitions, no rows at all
 */
public record DumpFilter(List<String> schemas, List<String> tables, List<String> excludeTableData, boolean schemaOnly) {

    public static final DumpFilter EVERYTHING = new DumpFilter(List.of(), List.of(), List.of(), false);

    public DumpFilter {
        schemas = schemas == null ? List.of() : List.copyOf(schemas);
        tables = tables == null ? List.of() : List.copyOf(tables);
        excludeTableData = excludeTableData == null ? List.of() : List.copyOf(excludeTableData);
    }

    public boolean isEverything() {
        return equals(EVERYTHING);
    }

    List<String> pgDumpArguments() {
        List<String> args = new ArrayList<>();
        schemas.forEach(s -> args.add("--schema=" + s));
        tables.forEach(t -> args.add("--table=" + t));
        excludeTableData.forEach(t -> args.add("--exclude-table-data=" + t));
        if (schemaOnly) {
            args.add("--schema-only");
        }
        return args;
    }
}
