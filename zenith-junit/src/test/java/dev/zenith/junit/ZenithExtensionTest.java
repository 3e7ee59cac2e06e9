package dev.zenith.junit;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;

import org.postgresql.ds.PGSimpleDataSource;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * The extension against a real pageserver, which it starts itself: every test gets its own branch of
 * "seeded" (three orders) or of main, so what one test writes is gone for the next; a static field
 * shares one branch across the class; a failed test's branch stays when asked.
 */
@ExtendWith({TestRepository.class, ZenithExtension.class})
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ZenithExtensionTest {

    @ZenithBranch(from = "seeded")
    static String sharedByTheClass;

    @ZenithBranch
    Connection fromMain;

    private static String firstTestsBranch;

    @Test
    @Order(1)
    void placesAnOrder(@ZenithBranch(from = "seeded") DataSource db) throws SQLException {
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            assertThat(count(s, "SELECT count(*) FROM orders")).as("the seeded rows").isEqualTo(3);
            s.execute("INSERT INTO orders VALUES (4, 'coffee')");
            assertThat(count(s, "SELECT count(*) FROM orders")).isEqualTo(4);
        }
        try (Connection c = DriverManager.getConnection(sharedByTheClass); Statement s = c.createStatement()) {
            s.execute("INSERT INTO orders VALUES (100, 'shared')");
        }
        firstTestsBranch = branchOf(((PGSimpleDataSource) db).getUrl());
    }

    @Test
    @Order(2)
    void theNextTestSeesNoneOfIt(@ZenithBranch(from = "seeded") Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            assertThat(count(s, "SELECT count(*) FROM orders")).as("the first test's rows are on its own branch").isEqualTo(3);
        }
        assertThat(firstTestsBranch).startsWith("test-ZenithExtensionTest-placesAnOrder-");
        assertThat(TestRepository.zenith("branch", "--all", "--json")).as("deleted after its test").doesNotContain(firstTestsBranch);
    }

    @Test
    @Order(3)
    void byUrlAndAFieldOfItsOwn(@ZenithBranch(from = "seeded") String jdbcUrl) throws SQLException {
        assertThat(jdbcUrl).startsWith("jdbc:postgresql://127.0.0.1:").contains("options=branch%3Dtest-ZenithExtensionTest-");
        try (Connection c = DriverManager.getConnection(jdbcUrl); Statement s = c.createStatement()) {
            assertThat(count(s, "SELECT count(*) FROM orders")).isEqualTo(3);
        }
        try (Statement s = fromMain.createStatement()) {
            assertThat(count(s, "SELECT count(*) FROM pg_class WHERE relname = 'orders'")).as("main has no orders").isZero();
        }
        try (Connection c = DriverManager.getConnection(sharedByTheClass); Statement s = c.createStatement()) {
            assertThat(count(s, "SELECT count(*) FROM orders WHERE id = 100")).as("the class's branch kept the first test's row")
                    .isEqualTo(1);
        }
        assertThat(TestRepository.zenith("branch")).as("test branches are hidden").doesNotContain("test-")
                .contains("test branches hidden");
    }

    @Test
    @Order(4)
    void aFailedTestsBranchIsKeptWhenItAsks() {
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request().selectors(selectClass(FailingOnPurpose.class))
                .build(), summary);
        assertThat(summary.getSummary().getTestsFailedCount()).isEqualTo(1);
        String kept = branchOf(FailingOnPurpose.url);
        assertThat(TestRepository.zenith("branch", "--all", "--json")).contains("\"" + kept + "\"");
        TestRepository.zenith("branch", "delete", kept);
    }

    /** Run only by the test above (surefire leaves nested classes out). */
    @ExtendWith(ZenithExtension.class)
    static class FailingOnPurpose {
        static String url;

        @Test
        void fails(@ZenithBranch(from = "seeded", keepOnFailure = true) String jdbcUrl) {
            url = jdbcUrl;
            fail("on purpose: its branch stays to be looked at");
        }
    }

    private static String branchOf(String jdbcUrl) {
        return jdbcUrl.replaceAll(".*options=branch%3D([A-Za-z0-9_-]+).*", "$1");
    }

    private static long count(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
