package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * "What did my migration do to the data?": {@code zenith diff --data} on real computes, rows matched by
 * primary key and by whole row, a migration that changes 1% of rows and a column's type, a table the
 * WAL shows untouched (not read), and identical tables.
 */
class DataDiffTest {

    @Test
    void aMigrationsRowsShowByKeyAndWholeRowAndUntouchedTablesAreNotRead() throws Exception {
        try (Zenith z = Zenith.started()) {
            int main = z.start("main");
            z.execute(main, "CREATE TABLE users (id int PRIMARY KEY, name text, score int)",
                    "INSERT INTO users SELECT g, 'user ' || g, g FROM generate_series(1, 10000) g",
                    "CREATE TABLE events (payload text)",
                    "INSERT INTO events SELECT 'event ' || (g % 50) FROM generate_series(1, 200) g",
                    "CREATE TABLE untouched (id int PRIMARY KEY)", "INSERT INTO untouched SELECT generate_series(1, 100)");
            z.cli("tag", "before", "main").ok();
            z.cli("branch", "feature", "main").ok();
            int feature = z.start("feature");
            z.execute(feature, "ALTER TABLE users ALTER COLUMN score TYPE bigint",
                    "UPDATE users SET score = score + 1 WHERE id % 100 = 0",
                    "DELETE FROM users WHERE id IN (7, 8, 9)",
                    "INSERT INTO users VALUES (20001, 'new one', 1), (20002, 'new two', 2)",
                    "INSERT INTO events VALUES ('event 1'), ('brand new')",
                    "DELETE FROM events WHERE payload = 'event 2'");

            JsonNode json = Json.MAPPER.readTree(z.cli("diff", "main", "feature", "--data", "--json").out());
            Map<String, JsonNode> tables = new HashMap<>();
            json.get("data").get("tables").forEach(t -> tables.put(t.get("table").asText(), t));
            assertThat(json.get("data").get("equal").asBoolean()).isFalse();
            JsonNode users = tables.get("public.users");
            assertThat(users.get("matchedBy").asText()).isEqualTo("primary key");
            assertThat(users.get("changed").asLong()).as("1% of the rows, the type change alone changing none").isEqualTo(100);
            assertThat(users.get("removed").asLong()).isEqualTo(3);
            assertThat(users.get("added").asLong()).isEqualTo(2);
            assertThat(users.get("truncated").asBoolean()).isTrue();
            JsonNode firstChanged = null;
            for (JsonNode r : users.get("rows")) {
                if (r.get("change").asText().equals("changed")) {
                    firstChanged = r;
                    break;
                }
            }
            assertThat(firstChanged).isNotNull();
            long id = firstChanged.get("key").get("id").asLong();
            assertThat(id % 100).isZero();
            assertThat(firstChanged.get("columns").toString()).isEqualTo("{\"score\":{\"from\":" + id + ",\"to\":" + (id + 1) + "}}");
            assertThat(users.get("rows").toString()).contains("{\"change\":\"removed\",\"key\":{\"id\":7},\"row\":{\"id\":7,\"name\":\"user 7\",\"score\":7}}")
                    .contains("\"row\":{\"id\":20001,\"name\":\"new one\",\"score\":1}");

            JsonNode events = tables.get("public.events");
            assertThat(events.get("matchedBy").asText()).isEqualTo("whole row");
            assertThat(events.get("added").asLong()).isEqualTo(2);
            assertThat(events.get("removed").asLong()).as("every copy of 'event 2'").isEqualTo(4);
            assertThat(events.get("changed").asLong()).isZero();

            JsonNode untouched = tables.get("public.untouched");
            assertThat(untouched.get("unchanged").asText()).contains("the WAL shows no change on either side");

            Zenith.Result text = z.cli("diff", "main", "feature", "--data", "users", "--limit", "3");
            assertThat(text.exit()).isEqualTo(1);
            assertThat(text.out()).contains("\ndata: main -> feature\n")
                    .contains("  public.users: 2 added, 3 removed, 100 changed, by primary key (id)")
                    .contains("    - id=7: {\"id\":7,\"name\":\"user 7\",\"score\":7}").contains("... and 102 more");
            assertThat(text.out().substring(text.out().indexOf("data: main"))).as("only the table asked for").doesNotContain("public.events");

            // the WAL shows a change, the rows are the same: read, and found equal
            z.cli("branch", "back", "main").ok();
            z.execute(z.start("back"), "UPDATE users SET name = 'x' WHERE id = 1", "UPDATE users SET name = 'user 1' WHERE id = 1");
            JsonNode same = Json.MAPPER.readTree(z.cli("diff", "main", "back", "--data", "--json").out());
            assertThat(same.get("data").get("equal").asBoolean()).isTrue();
            assertThat(same.get("data").get("tables").get(2).get("table").asText()).isEqualTo("public.users");
            assertThat(same.get("data").get("tables").get(2).has("unchanged")).as("read, since the WAL shows a change").isFalse();
            assertThat(z.cli("diff", "main", "back", "--data").exit()).isZero();
            assertThat(z.cli("diff", "main@before", "main", "--data").exit()).isZero();

            Zenith.Result unknown = z.cli("diff", "main", "feature", "--data", "nosuch");
            assertThat(unknown.exit()).isEqualTo(2);
            assertThat(unknown.err()).contains("no table nosuch");
            Zenith.Result misuse = z.cli("diff", "main", "feature", "users");
            assertThat(misuse.exit()).isEqualTo(2);
            assertThat(misuse.err()).contains("go with --data");
        }
    }
}
