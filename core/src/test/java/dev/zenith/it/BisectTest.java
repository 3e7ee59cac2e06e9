package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * "When did order 42 vanish?": {@code zenith bisect} over 2,000 transactions finds the one that deleted
 * the row, in about log2(2,000) probes of read-only views; a result that never changes is said so.
 */
class BisectTest {

    @Test
    void aRowDeletedInOneOfTwoThousandTransactionsIsFoundExactly() throws Exception {
        try (Zenith z = Zenith.started()) {
            int main = z.start("main");
            z.execute(main, "CREATE TABLE orders (id int PRIMARY KEY)", "INSERT INTO orders SELECT g FROM generate_series(1, 100) g");
            z.cli("tag", "good", "main").ok();
            long deleter;
            try (Connection c = z.connect(main); Statement s = c.createStatement()) {
                for (int i = 1; i <= 1234; i++) {
                    s.execute("INSERT INTO orders VALUES (" + (1000 + i) + ")");
                }
                try (ResultSet rs = s.executeQuery("DELETE FROM orders WHERE id = 42 RETURNING txid_current()")) {
                    rs.next();
                    deleter = rs.getLong(1);
                }
                for (int i = 1236; i <= 2000; i++) {
                    s.execute("INSERT INTO orders VALUES (" + (1000 + i) + ")");
                }
            }

            List<JsonNode> steps = json(z.cli("bisect", "main", "--query", "select count(*) from orders where id = 42", "--good", "good",
                    "--json"));
            JsonNode start = steps.getFirst();
            int candidates = start.get("candidates").asInt();
            assertThat(candidates).as("every transaction after the tag, and no more than a few of the server's own")
                    .isBetween(2000, 2010);
            JsonNode found = steps.getLast();
            assertThat(found.get("kind").asText()).isEqualTo("found");
            assertThat(found.get("transaction").get("xid").asLong()).isEqualTo(deleter);
            assertThat(found.get("transaction").get("tables").toString()).contains("\"table\":\"public.orders\"").contains("\"deleted\":1");
            int log2 = 64 - Long.numberOfLeadingZeros(candidates - 1); // ceil(log2(candidates))
            assertThat(found.get("step").asInt()).as("one probe of the good point, then a binary search").isBetween(log2, log2 + 2);
            assertThat(steps.stream().filter(s -> s.get("kind").asText().equals("probe")).count()).isEqualTo(found.get("step").asLong());

            String before = found.get("before").asText();
            z.cli("branch", "just_before", "main", "--at", before).ok();
            assertThat(z.queryLong(z.start("just_before"), "SELECT count(*) FROM orders WHERE id = 42")).isEqualTo(1);
            z.cli("branch", "just_after", "main", "--at", found.get("lsn").asText()).ok();
            assertThat(z.queryLong(z.start("just_after"), "SELECT count(*) FROM orders WHERE id = 42")).isZero();

            Zenith.Result expecting = z.cli("bisect", "main", "--query", "select count(*) from orders where id = 42", "--good", "good",
                    "--expect", "1");
            assertThat(expecting.exit()).isZero();
            assertThat(expecting.out()).contains("the first transaction after which the result changed").contains("xid " + deleter)
                    .contains("public.orders  +0 ~0 -1").contains("branch there: zenith branch NEW main --at " + before);

            Zenith.Result unchanged = z.cli("bisect", "main", "--query", "select count(*) from orders where id = 7", "--good", "good");
            assertThat(unchanged.exit()).as(unchanged.out() + unchanged.err()).isEqualTo(1);
            assertThat(unchanged.out()).contains("the result stayed 1").contains("no transaction changed it");

            Zenith.Result noQuery = z.cli("bisect", "main");
            assertThat(noQuery.exit()).isEqualTo(2);
            assertThat(noQuery.err()).contains("--query");
            Zenith.Result backwards = z.cli("bisect", "main", "--query", "select 1", "--good", found.get("lsn").asText(), "--bad", before);
            assertThat(backwards.exit()).isEqualTo(2);
            assertThat(backwards.err()).contains("must come before the bad one");
        }
    }

    private static List<JsonNode> json(Zenith.Result result) throws Exception {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : result.ok().out().split("\n")) {
            if (!line.isBlank()) {
                lines.add(Json.MAPPER.readTree(line));
            }
        }
        return lines;
    }
}
