package dev.zenith.api;

import dev.zenith.ZenithException;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The API's route table without a daemon: which handler answers, with which path parts, and the 404 for none. */
class RoutesTest {

    private static final Routes.BodyReader NO_BODY = new Routes.BodyReader() {
        @Override
        public <T> T read(Class<T> type) {
            return null;
        }

        @Override
        public byte[] bytes() {
            return new byte[0];
        }
    };

    private final Routes routes = new Routes()
            .add("GET", "/v1/branches", r -> "list")
            .add("GET", "/v1/branches/{name}", r -> "one " + r.part(0))
            .add("DELETE", "/v1/branches/{name}", r -> "delete " + r.part(0))
            .add("POST", "/v1/branches/{name}/rename", r -> "rename " + r.part(0))
            .add("POST", "/v1/remotes/state", r -> "states")
            .add("POST", "/v1/remotes/{name}/push", r -> "push to " + r.part(0));

    @Test
    void theMethodAndTheWholePathChooseTheHandlerAndItsParts() throws IOException {
        assertThat(routes.dispatch("GET", "/v1/branches", NO_BODY)).isEqualTo("list");
        assertThat(routes.dispatch("GET", "/v1/branches/feature", NO_BODY)).isEqualTo("one feature");
        assertThat(routes.dispatch("DELETE", "/v1/branches/feature", NO_BODY)).isEqualTo("delete feature");
        assertThat(routes.dispatch("POST", "/v1/branches/feature/rename", NO_BODY)).isEqualTo("rename feature");
        assertThat(routes.dispatch("POST", "/v1/remotes/state", NO_BODY)).isEqualTo("states");
        assertThat(routes.dispatch("POST", "/v1/remotes/origin/push", NO_BODY)).isEqualTo("push to origin");
    }

    @Test
    void aPartNeverSpansASlashAndAnUnknownRequestIsA404NamingIt() {
        assertThatThrownBy(() -> routes.dispatch("GET", "/v1/branches/a/b", NO_BODY)).isInstanceOf(ZenithException.class)
                .hasMessage("no such API endpoint: GET /v1/branches/a/b")
                .extracting(e -> ((ZenithException) e).kind()).isEqualTo(ZenithException.Kind.NOT_FOUND);
        assertThatThrownBy(() -> routes.dispatch("PUT", "/v1/branches", NO_BODY)).isInstanceOf(ZenithException.class)
                .hasMessageContaining("PUT /v1/branches");
    }
}
