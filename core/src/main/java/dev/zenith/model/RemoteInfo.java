package dev.zenith.model;

/**
 * A remote as {@code zenith remote list} shows it: where its objects live. No credentials: those come
 * from the standard AWS chain (environment, {@code ~/.aws} profiles) and are never stored.
 */
public record RemoteInfo(String name, String url, String endpoint, String region, boolean pathStyle) {
}
