package dev.zenith.it;

import dev.zenith.BranchName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code zenith branch NAME PARENT --schema-only}: the parent's tables, indexes, constraints, roles, grants and
 * extensions, no rows, sequences at their start, and not one byte of the parent's rows in any file of the new
 * branch (heap, TOAST, indexes, old row versions, statistics, large objects, WAL), which a byte search proves
 * after checking that the same search finds them in the parent's.
 */
class SchemaOnlyBranchTest {

    @RegisterExtension
    static final Zenith z = Zenith.startedPerClass();

    private static final String CANARY = "zenith-canary-5e1f08c2";

    @Test
    void aSchemaOnlyBranchHasEverythingButTheRowsAndNoByteOfThem() throws Exception {
        try (Connection c = z.connectProxy("main"); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION pg_trgm");
            s.execute("CREATE ROLE reader");
            s.execute("CREATE TABLE people (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text UNIQUE CHECK (email <> ''),"
                    + " bio text)");
            // stored out of line and uncompressed, so the canary is in the TOAST table's file as it is
            s.execute("ALTER TABLE people ALTER COLUMN bio SET STORAGE EXTERNAL");
            s.execute("CREATE INDEX people_email_trgm ON people USING gin (email gin_trgm_ops)");
            s.execute("CREATE TABLE orders (id serial PRIMARY KEY, person int NOT NULL REFERENCES people)");
            s.execute("INSERT INTO people (email, bio) SELECT '" + CANARY + "-' || g || '@example.com', repeat('" + CANARY
                    + "', 400) FROM generate_series(1, 200) g");
            s.execute("INSERT INTO orders (person) SELECT 1 FROM generate_series(1, 50)");
            s.execute("UPDATE people SET email = email || '.old' WHERE id <= 10"); // old row versions too
            s.execute("CREATE MATERIALIZED VIEW emails AS SELECT email FROM people");
            s.execute("SELECT lo_from_bytea(0, convert_to('" + CANARY + "', 'UTF8'))");
            s.execute("GRANT SELECT ON people TO reader");
            s.execute("ANALYZE"); // the most common values: the canary in pg_statistic
            s.execute("CHECKPOINT");
        }
        List<Path> mainDataDirs = z.dataDirsOf("main");
        assertThat(FilesHolding.of(mainDataDirs, CANARY)).as("the search finds the rows where they are").isNotEmpty();

        Zenith.Result made = z.cli("branch", "safe", "main", "--schema-only").ok();
        assertThat(made.out()).contains("made safe of the schema of main").contains("a new root, no rows");

        assertThat(z.queryText("safe", "SELECT (SELECT count(*) FROM people) || ' ' || (SELECT count(*) FROM orders)"
                + " || ' ' || (SELECT count(*) FROM pg_largeobject_metadata) || ' ' || (SELECT count(*) FROM pg_stats"
                + " WHERE tablename = 'people')")).as("rows, large objects, statistics").isEqualTo("0 0 0 0");
        assertThat(z.queryText("safe", "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'people'"))
                .isEqualTo("people_email_key,people_email_trgm,people_pkey");
        assertThat(z.queryText("safe", "SELECT string_agg(contype::text, '' ORDER BY contype) FROM pg_constraint"
                + " WHERE conrelid IN ('people'::regclass, 'orders'::regclass) AND contype <> 'n'")).as("check, foreign key, primary keys, unique")
                .isEqualTo("cfppu");
        assertThat(z.queryText("safe", "SELECT has_table_privilege('reader', 'people', 'SELECT') || ' '"
                + " || (SELECT extversion IS NOT NULL FROM pg_extension WHERE extname = 'pg_trgm')"))
                .as("roles, grants and extensions").isEqualTo("true true");
        assertThat(z.queryText("safe", "SELECT relispopulated FROM pg_class WHERE relname = 'emails'")).isEqualTo("f");
        assertThat(z.queryText("safe", "INSERT INTO people (email) VALUES ('new@example.com') RETURNING id"))
                .as("identities start over").isEqualTo("1");
        assertThat(z.queryText("safe", "INSERT INTO orders (person) VALUES (1) RETURNING id")).as("sequences start over").isEqualTo("1");

        Path safeFiles = z.repository().requireBranch(new BranchName("safe")).dir();
        List<Path> safe = new ArrayList<>(z.dataDirsOf("safe"));
        safe.add(safeFiles);
        assertThat(FilesHolding.of(safe, CANARY)).as("no file of the new branch holds a byte of them").isEmpty();

        // a new root: nothing before it, so no point of it reaches the parent's rows
        Zenith.Result before = z.cli("branch", "peek", "safe", "--at", "0/1000000");
        assertThat(before.exit()).isNotZero();
        assertThat(z.cli("branch").ok().out()).contains("safe [").contains("the schema of main at");

        // reset makes it again of the parent's latest schema
        try (Connection c = z.connectProxy("main"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE later AS SELECT '" + CANARY + "' AS v");
        }
        assertThat(z.cli("branch", "reset", "safe").ok().out()).contains("its previous state is branch safe_old_");
        assertThat(z.queryText("safe", "SELECT count(*) FROM later")).isEqualTo("0");
        assertThat(z.queryText("safe", "SELECT count(*) FROM people")).as("its own rows went with the old state").isEqualTo("0");
    }

    @Test
    void aSchemaOnlyBranchTakesNoRetentionWhenMade() {
        Zenith.Result refused = z.cli("branch", "keep", "main", "--schema-only", "--expires", "2h");
        assertThat(refused.exit()).isEqualTo(2);
        assertThat(refused.err()).contains("a schema-only branch is a new root").contains("zenith branch expire");
        assertThat(z.branches()).doesNotContainKey("keep");
    }
}
