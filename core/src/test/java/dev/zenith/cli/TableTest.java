package dev.zenith.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** What zenith pg list prints: nodes in the order people count them, columns as wide as their widest cell. */
class TableTest {

    @Test
    void namesSortAsPeopleCount() {
        assertThat(Stream.of("pg10", "pg2", "pg1", "main", "pg1a", "b").sorted(Table.NATURAL).toList())
                .containsExactly("b", "main", "pg1", "pg1a", "pg2", "pg10");
    }

    @Test
    void aLongNameWidensItsColumnAndTheRestStaysInLine() {
        String longName = "a-branch-name-of-sixty-three-characters-which-is-the-most-a-nam";
        StringWriter out = new StringWriter();
        new Table("NODE", "BRANCH", "STATUS").row("pg1", longName, "running").row("pg2", "main", "new").print(new PrintWriter(out, true));
        List<String> lines = out.toString().lines().toList();
        int status = lines.get(0).indexOf("STATUS");
        assertThat(status).isGreaterThan(longName.length());
        assertThat(lines.get(1).indexOf("running")).isEqualTo(status);
        assertThat(lines.get(2).indexOf("new")).isEqualTo(status);
    }
}
