package dev.zenith.model;

/**
 * AWS credentials the CLI found in its own environment (the standard chain: variables, {@code ~/.aws}),
 * handed to the daemon for one push or pull over its loopback API and never written anywhere; null
 * fields: the daemon uses its own chain.
 */
public record RemoteCredentials(String accessKeyId, String secretAccessKey, String sessionToken) {

    @Override
    public String toString() {
        return "RemoteCredentials[" + accessKeyId + ", secret hidden]";
    }
}
