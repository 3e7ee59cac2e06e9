package dev.zenith.proxy;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The first TLS record of a connection on the proxy's port, read before any handshake so the protocol
 * inside can be chosen: Postgres's direct TLS names ALPN {@code postgresql} (Postgres requires it), an
 * HTTPS or WSS client names {@code http/1.1} or nothing. Written by hand: the JDK's TLS engine chooses
 * a protocol only during its own handshake, after the socket is committed to one server, and this is
 * a walk over a few length-prefixed fields (RFC 8446 4.1.2, RFC 7301).
 *
 * @param record the record as read (header and body), to replay into the handshake
 * @param protocols the ALPN protocols the client offers; empty when it names none or the record is not
 *                  a whole ClientHello
 */
record ClientHello(byte[] record, List<String> protocols) {

    private static final int HANDSHAKE = 0x16;
    private static final int CLIENT_HELLO = 1;
    private static final int ALPN = 16;
    /** A TLS record is at most 2^14 bytes of plaintext, plus some for a compressed or protected one. */
    private static final int MAX_RECORD = (1 << 14) + 2048;

    /** Reads the record whose first byte ({@code 0x16}) was already read. */
    static ClientHello read(DataInputStream in) throws IOException {
        byte[] header = new byte[5];
        header[0] = HANDSHAKE;
        in.readFully(header, 1, 4);
        int length = ((header[3] & 0xff) << 8) | (header[4] & 0xff);
        if (length > MAX_RECORD) {
            throw new IOException("a TLS record of " + length + " bytes");
        }
        byte[] record = new byte[5 + length];
        System.arraycopy(header, 0, record, 0, 5);
        in.readFully(record, 5, length);
        return new ClientHello(record, protocolsOf(ByteBuffer.wrap(record, 5, length).slice()));
    }

    boolean offers(String protocol) {
        return protocols.contains(protocol);
    }

    private static List<String> protocolsOf(ByteBuffer b) {
        try {
            if (b.get() != CLIENT_HELLO) {
                return List.of();
            }
            int length = (b.get() & 0xff) << 16 | (b.getShort() & 0xffff);
            if (length > b.remaining()) {
                return List.of(); // a ClientHello spread over records: none of the clients here sends one
            }
            b.position(b.position() + 2 + 32); // version, random
            skip(b, b.get() & 0xff); // session id
            skip(b, b.getShort() & 0xffff); // cipher suites
            skip(b, b.get() & 0xff); // compression methods
            int end = b.position() + (b.getShort() & 0xffff);
            while (b.position() + 4 <= end) {
                int type = b.getShort() & 0xffff;
                int size = b.getShort() & 0xffff;
                if (type != ALPN) {
                    skip(b, size);
                    continue;
                }
                List<String> names = new ArrayList<>();
                int listEnd = b.position() + 2 + (b.getShort() & 0xffff);
                while (b.position() < listEnd) {
                    byte[] name = new byte[b.get() & 0xff];
                    b.get(name);
                    names.add(new String(name, StandardCharsets.US_ASCII));
                }
                return List.copyOf(names);
            }
            return List.of();
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            return List.of();
        }
    }

    private static void skip(ByteBuffer b, int n) {
        b.position(b.position() + n);
    }
}
