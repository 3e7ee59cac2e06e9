package dev.zenith;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** How computes authenticate clients: config.json's {@code auth}, {@code zenith init --auth}, {@code zenith auth MODE}. */
public enum AuthMode {
    /** A local Postgres's default: no password, so the proxy listens on loopback only. */
    TRUST,
    /** SCRAM, with the superuser's password in {@code .zenith/password}. */
    PASSWORD;

    /** The mode as config.json and the CLI write it. */
    @JsonValue
    public String text() {
        return EnumText.of(this);
    }

    @Override
    public String toString() {
        return text();
    }

    /** A mode as a user wrote it; anything else is an {@link IllegalArgumentException} naming it. */
    @JsonCreator
    public static AuthMode parse(String text) {
        return EnumText.parse(AuthMode.class, "auth", text);
    }
}
