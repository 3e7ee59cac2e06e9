package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** "What did my migration change?": the schema of two branches, or of a branch at a tag, compared on real computes. */
class SchemaDiffTest {

    @Test
    void aMigrationsColumnIndexAndViewShowAsAUnifiedDiffWithRowEstimates() throws Exception {
        try (Zenith z = Zenith.started()) {
            int main = z.start("main");
            z.execute(main, "CREATE TABLE users (id int PRIMARY KEY, name text)",
                    "INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 100) g");
            z.cli("tag", "before-migration", "main").ok();
            z.cli("branch", "feature", "main").ok();
            int feature = z.start("feature");
            z.execute(feature, "ALTER TABLE users ADD COLUMN email text DEFAULT 'x' NOT NULL",
                    "CREATE INDEX users_email ON users (email)",
                    "CREATE VIEW active_users AS SELECT id, email FROM users",
                    "INSERT INTO users SELECT g, 'u' || g, 'e' FROM generate_series(101, 150) g",
                    "ANALYZE users");

            Zenith.Result diff = z.cli("diff", "main", "feature");
            assertThat(diff.exit()).as("they differ: " + diff.err()).isEqualTo(1);
            assertThat(diff.out()).contains("--- main\n+++ feature\n")
                    .contains("     id integer NOT NULL,\n-    name text\n+    name text,\n+    email text DEFAULT 'x'::text NOT NULL\n")
                    .contains("+CREATE INDEX users_email ON public.users USING btree (email);")
                    .contains("+CREATE VIEW public.active_users AS")
                    .contains("estimated rows: main -> feature").contains("  public.users: ~");
            assertThat(diff.out()).as("the primary key is the same on both sides").doesNotContain("-ALTER TABLE");

            JsonNode json = Json.MAPPER.readTree(z.cli("diff", "main", "feature", "--json").out());
            assertThat(json.get("equal").asBoolean()).isFalse();
            Map<String, String> changes = new HashMap<>();
            json.get("changes").forEach(c -> changes.put(c.get("kind").asText() + " " + c.get("name").asText(), c.get("change").asText()));
            assertThat(changes).containsEntry("table public.users", "changed").containsEntry("index public.users_email", "added")
                    .containsEntry("view public.active_users", "added").hasSize(3);
            JsonNode rows = json.get("tables").get(0);
            assertThat(rows.get("table").asText()).isEqualTo("public.users");
            assertThat(rows.get("to").asLong()).as("analyzed on feature").isEqualTo(150);
            assertThat(rows.get("from").asLong()).as("counted on main, never analyzed and small").isEqualTo(100);

            Zenith.Result same = z.cli("diff", "main@before-migration", "main");
            assertThat(same.exit()).as("main's schema did not change since the tag: " + same.out() + same.err()).isZero();
            assertThat(same.out()).doesNotContain("---").contains("estimated rows: main@before-migration -> main");

            Zenith.Result reverse = z.cli("diff", "feature", "main@before-migration");
            assertThat(reverse.exit()).isEqualTo(1);
            assertThat(reverse.out()).contains("-CREATE INDEX users_email");

            Zenith.Result missing = z.cli("diff", "main", "nosuch");
            assertThat(missing.exit()).isEqualTo(2);
            assertThat(missing.err()).contains("branch \"nosuch\" does not exist");
            Zenith.Result usage = z.cli("diff", "main", "bad name");
            assertThat(usage.exit()).isEqualTo(2);
            assertThat(usage.err()).contains("invalid branch name");
        }
    }
}
