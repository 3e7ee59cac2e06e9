package dev.zenith.remote;

import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * An {@link ObjectStore} in an S3 bucket, under a prefix, through the AWS SDK with the JDK's own HTTP
 * connection. Every write is create-only ({@code If-None-Match: *}); a 412 is the other writer's win. Checksums are sent
 * only where the API requires them, as stores other than AWS's reject the SDK's newer default.
 */
public final class S3ObjectStore implements ObjectStore {

    private static final int PRECONDITION_FAILED = 412;

    private final S3Client s3;
    private final String bucket;
    private final String prefix;

    public S3ObjectStore(String bucket, String prefix, Optional<URI> endpoint, Region region, boolean pathStyle,
                         AwsCredentialsProvider credentials) {
        var builder = S3Client.builder()
                .httpClientBuilder(UrlConnectionHttpClient.builder())
                .region(region)
                .credentialsProvider(credentials)
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .forcePathStyle(pathStyle);
        endpoint.ifPresent(builder::endpointOverride);
        this.s3 = builder.build();
        this.bucket = bucket;
        this.prefix = prefix.isEmpty() || prefix.endsWith("/") ? prefix : prefix + "/";
    }

    @Override
    public boolean putIfAbsent(String key, Path file) {
        return createOnly(key, RequestBody.fromFile(file));
    }

    @Override
    public boolean putIfAbsent(String key, byte[] content) {
        return createOnly(key, RequestBody.fromBytes(content));
    }

    private boolean createOnly(String key, RequestBody body) {
        try {
            s3.putObject(PutObjectRequest.builder().bucket(bucket).key(prefix + key).ifNoneMatch("*").build(), body);
            return true;
        } catch (S3Exception e) {
            if (e.statusCode() == PRECONDITION_FAILED) {
                return false;
            }
            throw e;
        }
    }

    @Override
    public Optional<byte[]> get(String key) {
        try {
            return Optional.of(s3.getObjectAsBytes(GetObjectRequest.builder().bucket(bucket).key(prefix + key).build())
                    .asByteArray());
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        }
    }

    @Override
    public List<String> list(String keyPrefix) {
        return s3.listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(bucket).prefix(prefix + keyPrefix).build())
                .contents().stream().map(S3Object::key).map(k -> k.substring(prefix.length())).toList();
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
