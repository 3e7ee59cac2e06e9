package dev.zenith.it;

import dev.zenith.BranchName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code zenith branch NAME PARENT --mask RULES}: canary values in a TOASTed column and an indexed unique one,
 * with old row versions, a materialized view and statistics of them, are in the parent's files and in no file
 * of the masked branch; hashed columns still join and stay unique; the other rules do what the README says; a
 * rule that does not fit is refused before anything is made; nothing before the masking is reachable.
 */
class MaskedBranchTest {

    @RegisterExtension
    static final Zenith z = Zenith.startedPerClass();

    private static final String CANARY = "zenith-canary-b07d4e19";

    @Test
    void aMaskedBranchKeepsItsShapeAndNoByteOfTheMaskedValues() throws Exception {
        try (Connection c = z.connectProxy("main"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE customers (id int PRIMARY KEY, email text UNIQUE, name text, ssn text, born date, bio text,"
                    + " country text)");
            s.execute("ALTER TABLE customers ALTER COLUMN bio SET STORAGE EXTERNAL"); // out of line, uncompressed
            s.execute("CREATE TABLE orders (id int PRIMARY KEY, customer_email text, amount int)");
            s.execute("INSERT INTO customers SELECT g, '" + CANARY + "-' || g || '@corp.example', 'Real Person ' || g,"
                    + " '123-45-' || lpad(g::text, 4, '0'), date '1980-01-01' + g, repeat('" + CANARY + "', 300), 'DE'"
                    + " FROM generate_series(1, 300) g");
            s.execute("INSERT INTO orders SELECT g, '" + CANARY + "-' || (g % 300 + 1) || '@corp.example', g FROM generate_series(1, 900) g");
            s.execute("UPDATE customers SET country = 'FR' WHERE id <= 20"); // old row versions with the canary
            s.execute("CREATE MATERIALIZED VIEW emails AS SELECT email FROM customers");
            s.execute("ANALYZE");
            s.execute("CHECKPOINT");
        }
        assertThat(FilesHolding.of(z.dataDirsOf("main"), CANARY)).as("the search finds them in the parent").isNotEmpty();

        Path rules = Files.writeString(z.dir().resolve("rules.yaml"), """
                postgres:
                  customers:
                    email: hash
                    name: name
                    ssn: {keep_last: 4}
                    born: {shift_days: 30}
                    bio: null
                  public.orders:
                    customer_email: hash
                """);
        Zenith.Result made = z.cli("branch", "safe", "main", "--mask", rules.toString()).ok();
        assertThat(made.out()).contains("made safe of main at").contains("masked: a new root");

        assertThat(z.queryText("safe", "SELECT count(*) || ' ' || count(DISTINCT email) || ' ' || count(bio) FROM customers"))
                .as("rows kept, hashes unique, nulls").isEqualTo("300 300 0");
        assertThat(z.queryText("safe", "SELECT count(*) FROM orders o JOIN customers c ON c.email = o.customer_email"))
                .as("a hash is the same in every table: joins hold").isEqualTo("900");
        assertThat(z.queryText("safe", "SELECT ssn || ' ' || (name <> 'Real Person 70') || ' ' || country FROM customers WHERE id = 70"))
                .as("keep_last, name, an unmasked column").isEqualTo("*******0070 true DE");
        assertThat(z.queryText("safe", "SELECT bool_and(abs(born - (date '1980-01-01' + id)) <= 30) AND bool_or(born <> date '1980-01-01' + id)"
                + " FROM customers")).as("dates moved, by at most 30 days").isEqualTo("t");
        assertThat(z.queryText("safe", "SELECT count(*) FROM emails WHERE email LIKE '%" + CANARY + "%'")).as("views refreshed").isEqualTo("0");

        List<Path> safe = new ArrayList<>(z.dataDirsOf("safe"));
        safe.add(z.repository().requireBranch(new BranchName("safe")).dir());
        assertThat(FilesHolding.of(safe, CANARY)).as("no file of the masked branch holds a masked value").isEmpty();

        // the same rules give the same values: a second masked branch joins with the first
        z.cli("branch", "safe2", "main", "--mask", rules.toString()).ok();
        assertThat(z.queryText("safe2", "SELECT email FROM customers WHERE id = 1")).isEqualTo(z.queryText("safe", "SELECT email FROM customers WHERE id = 1"));

        assertThat(z.cli("branch", "peek", "safe", "--at", "0/1000000").exit()).as("nothing before the masking").isNotZero();

        // reset makes it again, by the same rules, of the parent's latest state
        try (Connection c = z.connectProxy("main"); Statement s = c.createStatement()) {
            s.execute("INSERT INTO customers VALUES (301, '" + CANARY + "-301@corp.example', 'Late Person', '999-99-9999',"
                    + " date '2000-01-01', 'x', 'DE')");
        }
        assertThat(z.cli("branch", "reset", "safe", "--no-backup").ok().out()).contains("reset branch safe to main");
        assertThat(z.queryText("safe", "SELECT count(*) || ' ' || (SELECT ssn FROM customers WHERE id = 301)"
                + " || ' ' || (SELECT email FROM customers WHERE id = 1) FROM customers"))
                .isEqualTo("301 *******9999 " + z.queryText("safe2", "SELECT email FROM customers WHERE id = 1"));
        List<Path> reset = new ArrayList<>(z.dataDirsOf("safe"));
        reset.add(z.repository().requireBranch(new BranchName("safe")).dir());
        assertThat(FilesHolding.of(reset, CANARY)).as("made again, masked again").isEmpty();
    }

    @Test
    void rulesThatDoNotFitAreRefusedBeforeAnythingIsMade() throws Exception {
        try (Connection c = z.connectProxy("main"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, email text NOT NULL)");
        }
        Path rules = Files.writeString(z.dir().resolve("bad.yaml"), """
                postgres:
                  accounts:
                    emial: hash
                    email: null
                    id: email
                  nothere:
                    x: null
                """);
        Zenith.Result refused = z.cli("branch", "bad", "main", "--mask", rules.toString());
        assertThat(refused.exit()).isEqualTo(2);
        assertThat(refused.err()).contains("postgres.public.accounts.emial: no such column (public.accounts has id, email)")
                .contains("postgres.public.accounts.email: is NOT NULL").contains("postgres.public.accounts.id: is integer, and email makes text")
                .contains("table public.nothere does not exist").contains("nothing was made");

        Path unknown = Files.writeString(z.dir().resolve("unknown.yaml"), "postgres:\n  accounts:\n    email: md5\n");
        Zenith.Result usage = z.cli("branch", "bad", "main", "--mask", unknown.toString());
        assertThat(usage.exit()).isEqualTo(2);
        assertThat(usage.err()).contains("unknown rule \"md5\"").contains("the rules are null, hash");

        assertThat(z.branches()).doesNotContainKey("bad");
        assertThat(z.leftInTmp()).as("no copy left behind").isEmpty();
    }
}
