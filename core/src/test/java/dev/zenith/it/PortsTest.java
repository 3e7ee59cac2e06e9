package dev.zenith.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zenith.Json;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A second repository on a machine whose ports another zenith holds: every taken port is named at once with
 * its holder, nothing starts, and the offered ports work and stay for the next start.
 */
class PortsTest {

    @Test
    void takenPortsAreNamedAtOnceWithTheirHolderAndTheOfferedOnesStay() throws Exception {
        try (Zenith first = Zenith.started(); Zenith second = Zenith.empty()) {
            second.init().ok();
            second.configure(Map.of("apiPort", first.apiPort(), "proxyPort", first.proxyPort()));

            Zenith.Result refused = second.cli("pageserver", "start");
            assertThat(refused.exit()).as(refused.err()).isEqualTo(1);
            String holder = "the zenith pageserver of " + first.repo();
            assertThat(refused.err()).contains("ports " + first.proxyPort() + " (the proxy) is held by " + holder)
                    .contains(first.apiPort() + " (the API and console) is held by " + holder)
                    .contains("zenith pageserver start --proxy-port ").contains(" --api-port ");
            assertThat(second.daemonPid()).as("nothing half-started").isEmpty();

            Matcher offered = Pattern.compile("zenith pageserver start (--proxy-port (\\d+) --api-port (\\d+))").matcher(refused.err());
            assertThat(offered.find()).isTrue();
            List<String> start = new ArrayList<>(List.of("pageserver", "start"));
            start.addAll(List.of(offered.group(1).split(" ")));
            second.cli(start.toArray(String[]::new)).ok();
            try {
                JsonNode config = Json.MAPPER.readTree(second.repo().resolve("config.json").toFile());
                assertThat(config.path("proxyPort").asInt()).isEqualTo(Integer.parseInt(offered.group(2)));
                assertThat(config.path("apiPort").asInt()).isEqualTo(Integer.parseInt(offered.group(3)));
                second.cli("pageserver", "stop").ok();
                second.cli("pageserver", "start").ok(); // the ports stayed: no options needed again
                assertThat(second.cli("status").ok().out()).contains(offered.group(3));
            } finally {
                second.cli("pageserver", "stop");
            }
        }
    }
}
