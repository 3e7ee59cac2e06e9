package dev.zenith.schema;

import com.github.difflib.DiffUtils;
import com.github.difflib.UnifiedDiffUtils;
import dev.zenith.model.SchemaDiff;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** Two schema snapshots compared object by object, and as a unified diff of their definitions. */
public final class SchemaComparison {

    private static final int CONTEXT_LINES = 3;

    private SchemaComparison() {
    }

    public static SchemaDiff of(String fromLabel, SchemaSnapshot from, String toLabel, SchemaSnapshot to) {
        List<SchemaDiff.Change> changes = new ArrayList<>();
        TreeSet<SchemaSnapshot.SchemaObject> all = new TreeSet<>(SchemaSnapshot.SchemaObject.ORDER);
        all.addAll(from.objects().keySet());
        all.addAll(to.objects().keySet());
        for (SchemaSnapshot.SchemaObject object : all) {
            String before = from.objects().get(object);
            String after = to.objects().get(object);
            if (before == null || after == null || !before.equals(after)) {
                changes.add(new SchemaDiff.Change(object.kind().name().toLowerCase(), object.name(),
                        before == null ? "added" : after == null ? "removed" : "changed", before, after));
            }
        }
        TreeSet<String> tables = new TreeSet<>(from.estimatedRows().keySet());
        tables.addAll(to.estimatedRows().keySet());
        List<SchemaDiff.TableRows> rows = tables.stream()
                .map(t -> new SchemaDiff.TableRows(t, from.estimatedRows().get(t), to.estimatedRows().get(t))).toList();
        List<String> fromLines = lines(from.objects());
        List<String> toLines = lines(to.objects());
        String unified = changes.isEmpty() ? "" : String.join("\n", UnifiedDiffUtils.generateUnifiedDiff(fromLabel, toLabel,
                fromLines, DiffUtils.diff(fromLines, toLines), CONTEXT_LINES)) + "\n";
        return new SchemaDiff(fromLabel, toLabel, changes.isEmpty(), changes, rows, unified);
    }

    /** A schema as text: each definition under a comment naming the object, in the snapshot's order. */
    private static List<String> lines(Map<SchemaSnapshot.SchemaObject, String> objects) {
        List<String> lines = new ArrayList<>();
        objects.forEach((object, definition) -> {
            lines.add("-- " + object.label());
            lines.addAll(Arrays.asList(definition.split("\n", -1)));
            lines.add("");
        });
        return lines;
    }
}
