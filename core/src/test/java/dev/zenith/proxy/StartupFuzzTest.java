package dev.zenith.proxy;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Coverage-guided fuzzing (Jazzer) of everything the proxy reads before a session is established:
 * packet framing, the kind of packet, the startup message and its branch routing. Whatever the bytes,
 * the outcome is a decoded packet, a {@link Wire.ProtocolException} (answered as Postgres answers) or an unroutable
 * branch (42602, 22023); any other
 * exception, or a hang, is a finding. The same input stream as a live client would send is used, so
 * several packets in a row (SSLRequest, then a startup message) are explored too. The live proxy's
 * side (other clients keep working while garbage arrives) is in ProxyTest.
 */
class StartupFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void anyBytesDecodeOrAreRefused(byte[] input) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(input));
        try {
            for (int packets = 0; packets < 16; packets++) {
                StartupPacket packet = StartupPacket.decode(Wire.readStartupPacket(in));
                if (packet instanceof StartupPacket.Startup(StartupMessage message)) {
                    StartupMessage.Route routed;
                    try {
                        routed = message.route(java.time.Instant.EPOCH);
                    } catch (StartupMessage.Unroutable unroutable) {
                        assertThat(unroutable.sqlState()).isIn("42602", "22023");
                        assertThat(unroutable.getMessage()).isNotBlank();
                        return;
                    }
                    assertThat(routed.forward().parameters()).doesNotContainKey("branch").containsKey("user");
                    byte[] encoded = routed.forward().encode();
                    StartupMessage again = ((StartupPacket.Startup) StartupPacket.decode(
                            java.util.Arrays.copyOfRange(encoded, 4, encoded.length))).message();
                    assertThat(again.parameters()).isEqualTo(routed.forward().parameters());
                    return;
                }
                if (packet instanceof StartupPacket.CancelRequest) {
                    return;
                }
            }
        } catch (Wire.ProtocolException refused) {
            assertThat(refused.getMessage()).isNotBlank();
        }
    }
}
