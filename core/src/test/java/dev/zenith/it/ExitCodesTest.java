package dev.zenith.it;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's rule for exit codes, case by case: 2 when what was typed can never work (usage, a malformed
 * value, a point outside the branch's history, what main never allows), 1 when the repository or the
 * machine refused or failed (not found, a name taken, a protected branch, a remote or pageserver that does not answer).
 */
class ExitCodesTest {

    @Test
    void twoForWhatWasTypedOneForWhatTheRepositoryOrTheMachineRefused() throws Exception {
        try (Zenith z = Zenith.started()) {
            z.cli("branch", "parent", "main").ok();
            z.cli("branch", "child", "parent").ok();

            expect(z, 2, "branch", "--no-such-option");
            expect(z, 2, "branch", "my branch", "main");
            expect(z, 2, "branch", "delte", "child");
            expect(z, 2, "pg", "start", "main", "--idle-timeout", "5x");
            expect(z, 2, "branch", "later", "main", "--at", "2999-01-01T00:00:00Z");
            expect(z, 2, "branch", "delete", "main");
            expect(z, 2, "branch", "reset", "main");
            expect(z, 2, "branch", "rename", "main", "other");
            expect(z, 2, "branch", "unprotect", "main");

            expect(z, 1, "branch", "delete", "nosuch");
            expect(z, 1, "branch", "protect", "nosuch");
            expect(z, 1, "pg", "stop", "nosuch");
            expect(z, 1, "branch", "child", "main");
            z.cli("branch", "protect", "child").ok();
            expect(z, 1, "branch", "delete", "child");

            z.cli("remote", "add", "far", "s3://bucket/p", "--endpoint", "http://127.0.0.1:" + Zenith.freePort()).ok();
            S3Server.withCredentials(S3Server.ACCESS_KEY, S3Server.SECRET_KEY, () -> expect(z, 1, "remote", "status"));

            z.cli("pageserver", "stop").ok();
            expect(z, 1, "branch", "other", "main");
        }
    }

    private static void expect(Zenith z, int exit, String... args) {
        Zenith.Result r = z.cli(args);
        assertThat(r.exit()).as("zenith %s: %s", String.join(" ", args), r.err()).isEqualTo(exit);
        assertThat(r.err()).as("zenith %s says why", String.join(" ", args)).startsWith("zenith: ").doesNotContain("Exception");
    }
}
