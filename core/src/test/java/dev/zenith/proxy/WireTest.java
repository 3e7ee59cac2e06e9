package dev.zenith.proxy;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Framing of the messages the proxy reads and writes itself. */
class WireTest {

    private static DataInputStream stream(byte[] bytes) {
        return new DataInputStream(new ByteArrayInputStream(bytes));
    }

    @Test
    void aMessageRoundTrips() throws IOException {
        Wire.Message message = new Wire.Message('p', "secret\0".getBytes(StandardCharsets.UTF_8));
        Wire.Message read = Wire.readMessage(stream(message.encode()), 100);
        assertThat(read.type()).isEqualTo('p');
        assertThat(read.body()).isEqualTo(message.body());
    }

    @Test
    void aLengthBelowFourOrAboveTheLimitIsRefused() {
        byte[] tooShort = ByteBuffer.allocate(5).put((byte) 'p').putInt(3).array();
        byte[] tooLong = ByteBuffer.allocate(5).put((byte) 'p').putInt(101).array();
        assertThatThrownBy(() -> Wire.readMessage(stream(tooShort), 100)).isInstanceOf(IOException.class)
                .hasMessageContaining("invalid length 3");
        assertThatThrownBy(() -> Wire.readMessage(stream(tooLong), 100)).hasMessageContaining("invalid length 101");
    }

    @Test
    void theEndOfTheStreamBeforeAMessageIsNoMessage() throws IOException {
        assertThat(Wire.readMessage(stream(new byte[0]), 100)).isNull();
    }

    @Test
    void aFatalErrorCarriesSeverityStateMessageAndHint() {
        byte[] fatal = Wire.fatal("3D000", "branch \"x\" does not exist", "zenith branch x main");
        ByteBuffer b = ByteBuffer.wrap(fatal);
        assertThat(b.get()).isEqualTo((byte) 'E');
        assertThat(b.getInt()).isEqualTo(fatal.length - 1);
        String fields = new String(fatal, 5, fatal.length - 5, StandardCharsets.UTF_8);
        assertThat(fields).isEqualTo("SFATAL\0VFATAL\0C3D000\0Mbranch \"x\" does not exist\0Hzenith branch x main\0\0");
    }

    @Test
    void startupPacketsOutsidePostgresBoundsAreRefused() {
        byte[] tiny = ByteBuffer.allocate(4).putInt(7).array();
        byte[] huge = ByteBuffer.allocate(4).putInt(10001).array();
        // Terminate (X 00 00 00 04) read as a length: what a client that connects and ends at once sends
        byte[] terminate = {'X', 0, 0, 0, 4};
        for (byte[] bad : new byte[][] {tiny, huge, terminate}) {
            assertThatThrownBy(() -> Wire.readStartupPacket(stream(bad))).isInstanceOfSatisfying(Wire.ProtocolException.class,
                    e -> assertThat(e.reply()).as("closed without a word, as Postgres does").isEmpty())
                    .hasMessageContaining("invalid length of startup packet");
        }
    }

    @Test
    void startupPacketsPostgresCanFrameButRefusesGetItsSqlStates() {
        byte[] version4 = ByteBuffer.allocate(4).putInt(4 << 16).array();
        assertThat(reply(version4)).contains("C0A000").contains("unsupported frontend protocol 4.0");
        byte[] version2 = ByteBuffer.allocate(4).putInt(2 << 16).array();
        assertThat(reply(version2)).as("in protocol 2's own format")
                .isEqualTo("EFATAL:  unsupported frontend protocol 2.0: server supports 3.0 to 3.2\n\0");
        byte[] params = "database\0postgres\0\0".getBytes(StandardCharsets.UTF_8);
        byte[] noUser = ByteBuffer.allocate(4 + params.length).putInt(3 << 16).put(params).array();
        assertThat(reply(noUser)).contains("C28000");
    }

    private static String reply(byte[] body) {
        try {
            StartupPacket.decode(body);
            throw new AssertionError("decoded");
        } catch (Wire.ProtocolException e) {
            return new String(e.reply().orElseThrow(), StandardCharsets.UTF_8);
        }
    }
}
