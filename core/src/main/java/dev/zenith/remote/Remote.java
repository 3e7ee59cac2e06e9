package dev.zenith.remote;

import dev.zenith.BranchName;
import dev.zenith.ZenithException;
import dev.zenith.model.RemoteInfo;

import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.regions.Region;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A named place to push branches to and clone them from: an S3 bucket and a prefix in it, reached at AWS
 * or at {@code endpoint} (MinIO, a local server, any S3-compatible store).
 *
 * @param endpoint  null: AWS's own endpoint for {@code region}
 * @param pathStyle bucket in the path rather than the host name; the default for IP and localhost endpoints
 */
public record Remote(String name, String bucket, String prefix, String endpoint, String region, boolean pathStyle) {

    private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]{0,62}");
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    public static final String DEFAULT_REGION = "us-east-1";

    /**
     * A remote from what {@code zenith remote add} was given; {@code pathStyle} null picks the default for
     * the endpoint.
     */
    public static Remote parse(String name, String url, String endpoint, String region, Boolean pathStyle) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw ZenithException.badRequest("invalid remote name \"" + BranchName.printable(String.valueOf(name))
                    + "\": a letter, then letters, digits, _ . or -, up to 63");
        }
        if (url == null || !url.startsWith("s3://")) {
            throw ZenithException.badRequest("invalid remote URL \"" + BranchName.printable(String.valueOf(url))
                    + "\": use s3://BUCKET or s3://BUCKET/PREFIX");
        }
        String rest = url.substring("s3://".length());
        int slash = rest.indexOf('/');
        String bucket = slash < 0 ? rest : rest.substring(0, slash);
        String prefix = slash < 0 ? "" : rest.substring(slash + 1).replaceAll("/+$", "");
        if (!BUCKET.matcher(bucket).matches()) {
            throw ZenithException.badRequest("invalid bucket \"" + BranchName.printable(bucket) + "\" in " + url
                    + ": S3 bucket names are 3 to 63 lowercase letters, digits, dots and hyphens");
        }
        URI endpointUri = null;
        if (endpoint != null) {
            try {
                endpointUri = URI.create(endpoint);
            } catch (IllegalArgumentException e) {
                endpointUri = null;
            }
            if (endpointUri == null || endpointUri.getHost() == null
                    || !("http".equals(endpointUri.getScheme()) || "https".equals(endpointUri.getScheme()))) {
                throw ZenithException.badRequest("invalid endpoint \"" + BranchName.printable(endpoint)
                        + "\": use http://HOST:PORT or https://HOST");
            }
        }
        boolean style = pathStyle != null ? pathStyle : endpointUri != null && isAddressOrLocalhost(endpointUri.getHost());
        return new Remote(name, bucket, prefix, endpoint, region == null ? DEFAULT_REGION : region, style);
    }

    private static boolean isAddressOrLocalhost(String host) {
        if (host.equals("localhost") || host.startsWith("[")) {
            return true;
        }
        if (!host.chars().allMatch(c -> Character.isDigit(c) || c == '.')) {
            return false;
        }
        try {
            InetAddress.getByName(host);
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** The remote's objects, with credentials from the standard AWS chain (environment, ~/.aws, system properties). */
    public ObjectStore open() {
        return open(DefaultCredentialsProvider.builder().build());
    }

    public ObjectStore open(AwsCredentialsProvider credentials) {
        return new S3ObjectStore(bucket, prefix, Optional.ofNullable(endpoint).map(URI::create), Region.of(region), pathStyle,
                credentials);
    }

    public String url() {
        return "s3://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix);
    }

    public RemoteInfo info() {
        return new RemoteInfo(name, url(), endpoint, region, pathStyle);
    }
}
