package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code zenith log} against a scripted history on real Postgres: every transaction with its rows per
 * table and its DDL, read from the WAL; a rolled-back transaction and subtransaction leave nothing; a
 * renamed and rewritten table keeps its newest name; a dropped table keeps its own; a branch shows its
 * parent's history below its branch point; tags and branches sit where they were made.
 */
class TransactionLogTest {

    @ParameterizedTest(name = "PostgreSQL {0}")
    @ValueSource(ints = {15, 18})
    void theLogOfAScriptedHistoryMatchesExactly(int major) throws Exception {
        try (Zenith z = Zenith.empty()) {
            z.init("--pg-version", Integer.toString(major)).ok();
            z.cli("pageserver", "start").ok();
            int main = z.start("main");
            z.execute(main, "CREATE TABLE orders (id int PRIMARY KEY, item text)");
            z.execute(main, "CREATE TABLE items (id int)");
            z.execute(main, "INSERT INTO orders VALUES (1, 'a'), (2, 'b'), (3, 'c')");
            z.execute(main, "BEGIN", "UPDATE orders SET item = 'x' WHERE id = 1", "DELETE FROM orders WHERE id = 2",
                    "INSERT INTO items VALUES (1), (2)", "COMMIT");
            z.execute(main, "BEGIN", "INSERT INTO orders VALUES (99, 'never')", "ROLLBACK");
            z.execute(main, "BEGIN", "INSERT INTO orders VALUES (10, 'kept')", "SAVEPOINT s", "INSERT INTO orders VALUES (11, 'undone')",
                    "ROLLBACK TO SAVEPOINT s", "INSERT INTO items VALUES (3)", "COMMIT");
            z.execute(main, "ALTER TABLE orders RENAME TO purchases");
            z.cli("tag", "v1", "main").ok();
            z.execute(main, "ALTER TABLE purchases ALTER COLUMN id TYPE bigint");
            z.execute(main, "INSERT INTO purchases VALUES (20, 'after')");
            z.execute(main, "TRUNCATE items");
            z.execute(main, "INSERT INTO items VALUES (5)");
            z.execute(main, "CREATE TABLE gone (id int)");
            z.execute(main, "INSERT INTO gone VALUES (1)");
            z.execute(main, "DROP TABLE gone");
            z.execute(main, "UPDATE purchases SET item = 'y'");
            z.cli("branch", "feature", "main").ok();
            int feature = z.start("feature");
            z.execute(feature, "INSERT INTO purchases VALUES (30, 'feature')");

            List<String> mainHistory = List.of(
                    "public.purchases ~4",
                    "public.gone dropped",
                    "public.gone +1",
                    "public.gone created",
                    "public.items +1",
                    "public.items truncated",
                    "public.purchases +1",
                    "public.purchases rewritten",
                    "public.purchases altered",
                    "public.items +1 | public.purchases +1",
                    "public.items +2 | public.purchases ~1 -1",
                    "public.purchases +3",
                    "public.items created",
                    "public.purchases created");
            List<JsonNode> log = json(z, "log", "main");
            assertThat(log.stream().map(TransactionLogTest::changes).toList()).isEqualTo(mainHistory);
            assertThat(log.getFirst().path("refs").toString()).isEqualTo("[\"branch: feature\"]");
            assertThat(log.get(8).path("refs").toString()).as("the tag is on the last transaction before it").isEqualTo("[\"tag: v1\"]");
            assertThat(log.stream().filter(e -> e.has("refs")).count()).isEqualTo(2);
            for (int i = 1; i < log.size(); i++) {
                assertThat(log.get(i).get("before").asText()).as("newest first").isNotEqualTo(log.get(i - 1).get("before").asText());
                assertThat(Long.parseLong(log.get(i).get("xid").asText())).isLessThan(log.get(i - 1).get("xid").asLong());
            }

            List<JsonNode> featureLog = json(z, "log", "feature");
            assertThat(changes(featureLog.getFirst())).isEqualTo("public.purchases +1");
            assertThat(featureLog.get(1).get("kind").asText()).isEqualTo("branch-point");
            assertThat(featureLog.get(1).get("branch").asText()).isEqualTo("feature");
            assertThat(featureLog.get(1).get("parent").asText()).isEqualTo("main");
            assertThat(featureLog.subList(2, featureLog.size()).stream().map(TransactionLogTest::changes).toList())
                    .as("the parent's history goes on below the branch point").isEqualTo(mainHistory);
            assertThat(featureLog.get(2).has("refs")).as("the branch itself is the branch point, not a ref").isFalse();
            assertThat(featureLog.get(2).get("branch").asText()).isEqualTo("main");

            assertThat(json(z, "log", "main", "--table", "items").stream().map(TransactionLogTest::changes).toList())
                    .containsExactly("public.items +1", "public.items truncated", "public.items +1", "public.items +2",
                            "public.items created");
            assertThat(json(z, "log", "main", "--since", "v1").stream().map(TransactionLogTest::changes).toList())
                    .isEqualTo(mainHistory.subList(0, 8));
            assertThat(json(z, "log", "main", "--until", "v1").stream().map(TransactionLogTest::changes).toList())
                    .isEqualTo(mainHistory.subList(8, mainHistory.size()));
            assertThat(json(z, "log", "main", "-n", "2")).hasSize(2);

            // a point from the log is a point --at takes: the state just after that transaction
            String afterTruncate = log.get(5).get("lsn").asText();
            z.cli("branch", "at_truncate", "main", "--at", afterTruncate).ok();
            int at = z.start("at_truncate");
            assertThat(z.queryLong(at, "SELECT count(*) FROM items")).isZero();
            String beforeTruncate = log.get(5).get("before").asText();
            z.cli("branch", "before_truncate", "main", "--at", beforeTruncate).ok();
            assertThat(z.queryLong(z.start("before_truncate"), "SELECT count(*) FROM items")).isEqualTo(3);

            String text = z.cli("log", "main", "-n", "3").ok().out();
            assertThat(text).contains(log.getFirst().get("lsn").asText() + "  ").contains("(branch: feature)")
                    .contains("    public.purchases  +0 ~4 -0").contains("    public.gone  dropped");

            Zenith.Result missing = z.cli("log", "nosuch");
            assertThat(missing.exit()).isEqualTo(1);
            assertThat(missing.err()).contains("branch \"nosuch\" does not exist");
            Zenith.Result badPoint = z.cli("log", "main", "--since", "yesterday-ish");
            assertThat(badPoint.exit()).isEqualTo(2);
            assertThat(badPoint.err()).contains("yesterday-ish");
        }
    }

    private static List<JsonNode> json(Zenith z, String... args) throws Exception {
        List<String> full = new ArrayList<>(List.of(args));
        full.add("--json");
        List<JsonNode> entries = new ArrayList<>();
        for (String line : z.cli(full.toArray(String[]::new)).ok().out().split("\n")) {
            if (!line.isBlank()) {
                entries.add(Json.MAPPER.readTree(line));
            }
        }
        return entries;
    }

    /** A transaction's tables as {@code public.t +1 ~2 -3 ddl}, zero counts left out, joined by {@code |}. */
    private static String changes(JsonNode entry) {
        List<String> tables = new ArrayList<>();
        for (JsonNode t : entry.path("tables")) {
            StringBuilder s = new StringBuilder(t.get("table").asText());
            if (t.get("inserted").asLong() != 0) {
                s.append(" +").append(t.get("inserted").asLong());
            }
            if (t.get("updated").asLong() != 0) {
                s.append(" ~").append(t.get("updated").asLong());
            }
            if (t.get("deleted").asLong() != 0) {
                s.append(" -").append(t.get("deleted").asLong());
            }
            if (t.has("ddl")) {
                s.append(' ').append(t.get("ddl").asText());
            }
            tables.add(s.toString());
        }
        return String.join(" | ", tables);
    }
}
