package dev.zenith.proxy;

import java.nio.ByteBuffer;
import java.util.Arrays;

/** One packet of the startup phase, decoded from its body (what followed the length word). */
sealed interface StartupPacket {

    int PROTOCOL_MAJOR_3 = 3;

    record SslRequest() implements StartupPacket {
    }

    record GssEncRequest() implements StartupPacket {
    }

    /** A cancel key is 4 bytes in protocol 3.0 and up to 256 in 3.2. */
    record CancelRequest(int pid, byte[] key) implements StartupPacket {
    }

    record Startup(StartupMessage message) implements StartupPacket {
    }

    static StartupPacket decode(byte[] body) throws Wire.ProtocolException {
        if (body.length < 4) {
            throw Wire.ProtocolException.unframed("invalid length of startup packet: " + (body.length + 4));
        }
        int code = ByteBuffer.wrap(body).getInt();
        return switch (code) {
            case Wire.SSL_REQUEST -> new SslRequest();
            case Wire.GSSENC_REQUEST -> new GssEncRequest();
            case Wire.CANCEL_REQUEST -> {
                if (body.length < 8) {
                    throw Wire.ProtocolException.unframed("invalid length of cancel request packet: " + (body.length + 4));
                }
                yield new CancelRequest(ByteBuffer.wrap(body, 4, 4).getInt(), Arrays.copyOfRange(body, 8, body.length));
            }
            default -> {
                int major = code >>> 16;
                if (major != PROTOCOL_MAJOR_3) {
                    String message = "unsupported frontend protocol " + major + "." + (code & 0xffff)
                            + ": server supports 3.0 to 3.2";
                    throw major < PROTOCOL_MAJOR_3 ? Wire.ProtocolException.refusedInProtocol2(message)
                            : Wire.ProtocolException.refused("0A000", message);
                }
                yield new Startup(StartupMessage.parse(code, body, 4));
            }
        };
    }
}
