package dev.zenith.remote;

import dev.zenith.ZenithException;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Arrays;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * An {@link ObjectStore} in an S3 bucket, under a prefix, through the AWS SDK with the JDK's own HTTP
 * connection. Every write is create-only ({@code If-None-Match: *}); a 412 is the other writer's win.
 * Checksums are sent only where the API requires them, as stores other than AWS's reject the SDK's newer
 * default. The SDK's failures become errors that name the bucket or endpoint and say what to check.
 */
public final class S3ObjectStore implements ObjectStore {

    private static final int FORBIDDEN = 403;
    private static final int NOT_FOUND = 404;
    private static final int PRECONDITION_FAILED = 412;

    private final S3Client s3;
    private final String bucket;
    private final String prefix;
    private final String where;

    public S3ObjectStore(String bucket, String prefix, Optional<URI> endpoint, Region region, boolean pathStyle,
                         AwsCredentialsProvider credentials) {
        var builder = S3Client.builder()
                .httpClientBuilder(UrlConnectionHttpClient.builder().connectionTimeout(Duration.ofSeconds(5)))
                .region(region)
                .credentialsProvider(credentials)
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .overrideConfiguration(c -> c.retryStrategy(RetryMode.STANDARD))
                .forcePathStyle(pathStyle);
        endpoint.ifPresent(builder::endpointOverride);
        this.s3 = builder.build();
        this.bucket = bucket;
        this.prefix = prefix.isEmpty() || prefix.endsWith("/") ? prefix : prefix + "/";
        this.where = "s3://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix) + endpoint.map(e -> " at " + e).orElse("");
    }

    @Override
    public boolean putIfAbsent(String key, Path file) {
        return createOnly(key, () -> RequestBody.fromFile(file));
    }

    /**
     * The SDK retries a write whose answer was lost, and the retry's {@code If-None-Match} then fails on
     * the first attempt's object: the same bytes found under the key count as this call's.
     */
    @Override
    public boolean putIfAbsent(String key, byte[] content) {
        return createOnly(key, () -> RequestBody.fromBytes(content))
                || get(key).map(there -> Arrays.equals(there, content)).orElse(false);
    }

    private boolean createOnly(String key, Supplier<RequestBody> body) {
        return call(() -> {
            try {
                s3.putObject(PutObjectRequest.builder().bucket(bucket).key(prefix + key).ifNoneMatch("*").build(), body.get());
                return true;
            } catch (S3Exception e) {
                if (e.statusCode() == PRECONDITION_FAILED) {
                    return false;
                }
                throw e;
            }
        });
    }

    @Override
    public <T> Optional<T> read(String key, ContentReader<T> reader) {
        return call(() -> {
            ResponseInputStream<GetObjectResponse> response;
            try {
                response = s3.getObject(GetObjectRequest.builder().bucket(bucket).key(prefix + key).build());
            } catch (NoSuchKeyException e) {
                return Optional.empty();
            }
            try (InputStream content = new FailingAsUnreachable(response)) {
                return Optional.of(reader.read(content));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** The response's content, where a broken connection reads as the remote being out of reach. */
    private final class FailingAsUnreachable extends FilterInputStream {

        FailingAsUnreachable(InputStream in) {
            super(in);
        }

        @Override
        public int read() {
            try {
                return super.read();
            } catch (IOException e) {
                throw unreachable(e);
            }
        }

        @Override
        public int read(byte[] buf, int off, int len) {
            try {
                return super.read(buf, off, len);
            } catch (IOException e) {
                throw unreachable(e);
            }
        }
    }

    @Override
    public boolean exists(String key) {
        return call(() -> {
            try {
                s3.headObject(HeadObjectRequest.builder().bucket(bucket).key(prefix + key).build());
                return true;
            } catch (NoSuchKeyException e) {
                return false;
            } catch (S3Exception e) {
                if (e.statusCode() == NOT_FOUND && !bucketMissing(e)) {
                    return false;
                }
                throw e;
            }
        });
    }

    @Override
    public List<Listed> listObjects(String keyPrefix) {
        return call(() -> s3.listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(bucket).prefix(prefix + keyPrefix).build())
                .contents().stream()
                .map(o -> new Listed(o.key().substring(prefix.length()), o.size(), o.lastModified()))
                .toList());
    }

    @Override
    public void delete(String key) {
        call(() -> s3.deleteObject(b -> b.bucket(bucket).key(prefix + key)));
    }

    private <T> T call(Supplier<T> request) {
        try {
            return request.get();
        } catch (S3Exception e) {
            throw explain(e);
        } catch (SdkClientException e) {
            throw noCredentials(e) ? credentialsMissing(e) : unreachable(e);
        }
    }

    /**
     * The SDK says that no provider of its chain found credentials with a list of every provider and why it
     * found none (about 1,500 characters); its first words are the only sign, as the exception has no type of its own.
     */
    private static boolean noCredentials(SdkClientException e) {
        return String.valueOf(e.getMessage()).startsWith("Unable to load credentials");
    }

    private ZenithException credentialsMissing(Exception e) {
        return new ZenithException(ZenithException.Kind.FAILED, "no S3 credentials for the remote " + where
                + ": zenith looked in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the aws.accessKeyId and aws.secretAccessKey"
                + " system properties, the profile AWS_PROFILE names (default: default) in ~/.aws/credentials and ~/.aws/config,"
                + " and a container's or an EC2 instance's role, and found none",
                "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) where zenith runs", e);
    }

    private ZenithException unreachable(Exception e) {
        return new ZenithException(ZenithException.Kind.FAILED, "cannot reach the remote " + where + ": " + rootCause(e),
                "check the endpoint (zenith remote list) and that the server runs", e);
    }

    private ZenithException explain(S3Exception e) {
        String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
        if (bucketMissing(e)) {
            return new ZenithException(ZenithException.Kind.FAILED, "the bucket \"" + bucket + "\" does not exist at " + where,
                    "create it, or fix the remote's URL: zenith remote remove NAME, then add it again", e);
        }
        if (e.statusCode() == FORBIDDEN) {
            return new ZenithException(ZenithException.Kind.FAILED, "the remote " + where + " refused the credentials"
                    + (code == null ? "" : " (" + code + ")"), "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                    + "or AWS_PROFILE for a profile in ~/.aws/credentials", e);
        }
        return new ZenithException(ZenithException.Kind.FAILED, "the remote " + where + " answered " + e.statusCode()
                + (code == null ? "" : " " + code) + ": " + e.getMessage(), "try again; if it persists, check the server", e);
    }

    private static boolean bucketMissing(S3Exception e) {
        return e.awsErrorDetails() != null && "NoSuchBucket".equals(e.awsErrorDetails().errorCode());
    }

    private static String rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    @Override
    public void close() {
        try {
            s3.close();
        } catch (SdkException ignored) {
            // nothing left to release
        }
    }
}
