package dev.zenith.proxy;

import dev.zenith.BranchName;
import dev.zenith.Lsn;
import dev.zenith.PointInTime;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Every way a client names its branch, and what reaches Postgres after the branch is taken out. */
class StartupRoutingTest {

    private static final Instant NOW = Instant.parse("2026-11-24T12:00:00Z");

    private static StartupMessage startup(String... keyValues) {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", "alice");
        params.put("database", "postgres");
        for (int i = 0; i < keyValues.length; i += 2) {
            params.put(keyValues[i], keyValues[i + 1]);
        }
        return new StartupMessage(196608, params);
    }

    private static StartupMessage.Route route(String... keyValues) throws StartupMessage.Unroutable {
        return startup(keyValues).route(NOW);
    }

    @Test
    void noBranchIsMain() throws Exception {
        StartupMessage.Route r = route();
        assertThat(r.branch()).isEqualTo(BranchName.MAIN);
        assertThat(r.at()).isNull();
        assertThat(r.forward().parameters()).containsOnlyKeys("user", "database");
    }

    @Test
    void optionsBranchEqualsName() throws Exception {
        StartupMessage.Route r = route("options", "branch=feature");
        assertThat(r.branch()).isEqualTo(new BranchName("feature"));
        assertThat(r.forward().parameters()).doesNotContainKey("options");
    }

    @Test
    void optionsDashCWithASpace() throws Exception {
        assertThat(route("options", "-c branch=feature").branch()).isEqualTo(new BranchName("feature"));
    }

    @Test
    void optionsDashCJoined() throws Exception {
        assertThat(route("options", "-cbranch=feature").branch()).isEqualTo(new BranchName("feature"));
    }

    @Test
    void optionsDoubleDashAsPgoptionsSendsIt() throws Exception {
        assertThat(route("options", "--branch=feature").branch()).isEqualTo(new BranchName("feature"));
    }

    @Test
    void aStartupParameterNamedBranch() throws Exception {
        StartupMessage.Route r = route("branch", "feature");
        assertThat(r.branch()).isEqualTo(new BranchName("feature"));
        assertThat(r.forward().parameters()).doesNotContainKey("branch");
    }

    @Test
    void otherOptionsReachPostgresUnchanged() throws Exception {
        StartupMessage.Route r = route("options", "-c search_path=app -c branch=feature -c app.name=a\\ b");
        assertThat(r.forward().parameters()).containsEntry("options", "-c search_path=app -c app.name=a\\ b");
    }

    @Test
    void aBranchAtAnLsnIsAReadOnlyView() throws Exception {
        StartupMessage.Route r = route("options", "branch=main@0/16B5A50");
        assertThat(r.branch()).isEqualTo(BranchName.MAIN);
        assertThat(r.at()).isEqualTo(new PointInTime.AtLsn(Lsn.parse("0/16B5A50")));
    }

    @Test
    void aBranchAtARelativeTimeCountsBackFromNow() throws Exception {
        assertThat(route("options", "branch=main@-10m").at()).isEqualTo(new PointInTime.AtTime(NOW.minus(Duration.ofMinutes(10))));
    }

    @Test
    void aBranchAtATagIsAReadOnlyViewOfTheTagsPoint() throws Exception {
        assertThat(route("options", "branch=main@before-migration").at())
                .isEqualTo(new PointInTime.AtTag(new dev.zenith.TagName("before-migration")));
    }

    @Test
    void anInvalidBranchNameIs42602() {
        assertThatThrownBy(() -> route("options", "branch=../etc")).isInstanceOfSatisfying(StartupMessage.Unroutable.class,
                e -> {
                    assertThat(e.sqlState()).isEqualTo("42602");
                    assertThat(e.getMessage()).contains("invalid branch name");
                    assertThat(e.hint()).contains("options=branch=main");
                });
    }

    @Test
    void anInvalidPointIs22023() {
        assertThatThrownBy(() -> route("options", "branch=main@2026-13-45")).isInstanceOfSatisfying(
                StartupMessage.Unroutable.class, e -> {
                    assertThat(e.sqlState()).isEqualTo("22023");
                    assertThat(e.getMessage()).contains("invalid point \"2026-13-45\"");
                });
    }

    @Test
    void aStartupWithoutAUserIsRefused() {
        byte[] body = "database\0postgres\0\0".getBytes();
        assertThatThrownBy(() -> StartupMessage.parse(196608, body, 0)).isInstanceOf(Wire.ProtocolException.class)
                .hasMessageContaining("no PostgreSQL user name");
    }

    @Test
    void theForwardedMessageEncodesAsPostgresReadsIt() throws Exception {
        byte[] encoded = route("options", "branch=x -c a=b").forward().encode();
        ByteBuffer b = ByteBuffer.wrap(encoded);
        assertThat(b.getInt()).isEqualTo(encoded.length);
        assertThat(b.getInt()).isEqualTo(196608);
        StartupMessage again = StartupMessage.parse(196608, Arrays.copyOfRange(encoded, 8, encoded.length), 0);
        assertThat(again.parameters()).containsExactly(Map.entry("user", "alice"), Map.entry("database", "postgres"),
                Map.entry("options", "-c a=b"));
    }
}
