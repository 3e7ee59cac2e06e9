package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.BranchName;
import dev.zenith.Json;
import dev.zenith.Lsn;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Tags name points of a branch's history, work wherever a point does, and keep those points from GC. */
class TagsTest {

    @Test
    void aTagNamesAPointEveryCommandAcceptsAndHoldsItsBranch() throws Exception {
        try (Zenith z = Zenith.started()) {
            int main = z.start("main");
            z.execute(main, "CREATE TABLE users (id int PRIMARY KEY)", "INSERT INTO users SELECT g FROM generate_series(1, 100) g");
            assertThat(z.cli("tag", "before-migration", "main").ok().out()).startsWith("tag before-migration names main at ");
            z.execute(main, "ALTER TABLE users ADD COLUMN email text", "INSERT INTO users SELECT g, 'x' FROM generate_series(101, 150) g");

            JsonNode listed = Json.MAPPER.readTree(z.cli("tag", "--json").ok().out()).get(0);
            assertThat(listed.get("name").asText()).isEqualTo("before-migration");
            assertThat(listed.get("branch").asText()).isEqualTo("main");

            z.cli("branch", "old", "main", "--at", "before-migration").ok();
            int old = z.start("old");
            assertThat(z.queryLong(old, "SELECT count(*) FROM users")).isEqualTo(100);
            assertThat(z.queryLong(old, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'email'")).isZero();
            try (Connection c = z.connectProxy("main@before-migration"); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM users")) {
                rs.next();
                assertThat(rs.getLong(1)).as("a read-only view at the tag").isEqualTo(100);
            }
            assertThat(z.cli("pg", "start", "main", "--at", "before-migration").ok().out()).contains("showing branch main at");

            Zenith.Result taken = z.cli("tag", "before-migration", "old");
            assertThat(taken.exit()).isEqualTo(1);
            assertThat(taken.err()).contains("tag \"before-migration\" already exists");
            Zenith.Result unknown = z.cli("branch", "x", "main", "--at", "no-such-tag");
            assertThat(unknown.exit()).isEqualTo(2);
            assertThat(unknown.err()).contains("invalid point \"no-such-tag\": there is no tag of that name");
            Zenith.Result elsewhere = z.cli("branch", "y", "old", "--at", "before-migration");
            assertThat(elsewhere.exit()).isEqualTo(2);
            assertThat(elsewhere.err()).contains("tag before-migration is a point of main, not of branch old");

            // a reset to the branch's own tag: the state there comes back, the previous one is kept as a backup
            z.execute(old, "INSERT INTO users VALUES (1000)");
            z.cli("tag", "good", "old").ok();
            z.execute(old, "DELETE FROM users");
            String reset = z.cli("branch", "reset", "old", "--to", "good").ok().out();
            assertThat(reset).contains("reset branch old to tag good of old_old_").contains("its previous state is branch old_old_");
            assertThat(z.queryLong(z.start("old"), "SELECT count(*) FROM users")).isEqualTo(101);

            // the backup can go: the tag and the branch reset to it keep the history they need
            String backup = reset.replaceAll("(?s).*its previous state is branch (old_old_[0-9_]+).*", "$1");
            assertThat(z.cli("branch", "delete", backup).ok().out()).contains("its history stays as long as old, tag good need it");
            z.cli("gc").ok();
            z.cli("pg", "stop", "old", "--destroy").ok();
            assertThat(z.queryLong(z.start("old"), "SELECT count(*) FROM users")).as("rebuilt after GC").isEqualTo(101);
            assertThat(Json.MAPPER.readTree(z.cli("tag", "--json").ok().out()).toString()).contains("\"good\"");
            // and the tag still names its point: another branch is reset to it
            z.cli("branch", "again", "main").ok();
            assertThat(z.cli("branch", "reset", "again", "--to", "good").ok().out()).contains("reset branch again to tag good at");
            assertThat(z.queryLong(z.start("again"), "SELECT count(*) FROM users")).isEqualTo(101);

            assertThat(z.cli("tag", "delete", "good").ok().out()).startsWith("deleted tag good");
            assertThat(Json.MAPPER.readTree(z.cli("tag", "--json").ok().out())).hasSize(1);
        }
    }

    @Test
    void gcKeepsATaggedPointPastTheRetentionWindowAndItComesBack() throws Exception {
        try (Zenith z = Zenith.empty()) {
            z.init().ok();
            z.configure(Map.of("imageWalThresholdMb", 16, "housekeepingInterval", "1s", "retention", "0s"));
            z.cli("pageserver", "start").ok();
            int main = z.start("main");
            z.execute(main, "CREATE TABLE bulk (id serial, pad text) WITH (autovacuum_enabled = off)",
                    "INSERT INTO bulk (pad) SELECT repeat('p', 1000) FROM generate_series(1, 18000)");
            long taggedRows = z.queryLong(main, "SELECT count(*) FROM bulk");
            String lsn = Json.MAPPER.readTree(z.cli("tag", "create", "v1", "main", "--json").ok().out()).get("lsn").asText();
            z.execute(main, "INSERT INTO bulk (pad) SELECT repeat('q', 1000) FROM generate_series(1, 40000)");
            // an image after the tag: main's latest state then needs nothing the tag needs
            Lsn tagged = Lsn.parse(lsn);
            Zenith.waitFor(Duration.ofSeconds(120), () -> z.repository().requireBranch(BranchName.MAIN).newestImage()
                    .map(image -> image.lsn().isAfter(tagged)).orElse(false), "an image of main after the tag");
            z.cli("pg", "stop", "main").ok();

            long withTag = Json.MAPPER.readTree(z.cli("gc", "--json").ok().out()).get("freedBytes").asLong();
            Zenith.Result byLsn = z.cli("branch", "by-lsn", "main", "--at", lsn);
            assertThat(byLsn.exit()).as("the tag's LSN is outside the retention window").isEqualTo(2);
            assertThat(byLsn.err()).contains("older than the retention window");

            z.cli("branch", "from-tag", "main", "--at", "v1").ok();
            assertThat(z.queryLong(z.start("from-tag"), "SELECT count(*) FROM bulk")).isEqualTo(taggedRows);
            z.cli("branch", "delete", "from-tag").ok();

            z.cli("tag", "delete", "v1").ok();
            long withoutTag = Json.MAPPER.readTree(z.cli("gc", "--json").ok().out()).get("freedBytes").asLong();
            assertThat(withoutTag).as("what only the tag kept (freed %d while it existed)", withTag).isGreaterThan(16L << 20);
            assertThat(z.queryLong(z.start("main"), "SELECT count(*) FROM bulk")).isEqualTo(taggedRows + 40000);
        }
    }
}
