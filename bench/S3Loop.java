// The baseline of bench/remote.sh: the same files uploaded, then downloaded, one after another with the
// same S3 client library and HTTP client zenith uses, nothing else (no hashing, no compression).
// Run as a single-file program: java -cp "$DEPS" bench/S3Loop.java ENDPOINT BUCKET PREFIX DOWNLOAD_DIR FILE...
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

public class S3Loop {
    public static void main(String[] args) throws Exception {
        String bucket = args[1];
        String prefix = args[2];
        Path downloads = Path.of(args[3]);
        try (S3Client s3 = S3Client.builder().httpClientBuilder(UrlConnectionHttpClient.builder())
                .endpointOverride(URI.create(args[0])).region(Region.US_EAST_1).forcePathStyle(true)
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        System.getenv("AWS_ACCESS_KEY_ID"), System.getenv("AWS_SECRET_ACCESS_KEY")))).build()) {
            long bytes = 0;
            long t0 = System.nanoTime();
            for (int i = 4; i < args.length; i++) {
                Path f = Path.of(args[i]);
                String key = prefix + "/" + keyOf(args[i], i);
                bytes += Files.size(f);
                s3.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromFile(f));
            }
            long up = System.nanoTime() - t0;
            Files.createDirectories(downloads);
            t0 = System.nanoTime();
            for (int i = 4; i < args.length; i++) {
                int n = i;
                s3.getObject(b -> b.bucket(bucket).key(prefix + "/" + keyOf(args[n], n)), downloads.resolve("f" + n));
            }
            long down = System.nanoTime() - t0;
            System.out.println(bytes + " " + up / 1_000_000 + " " + down / 1_000_000);
        }
    }

    private static String keyOf(String file, int i) {
        return i + "-" + Path.of(file).getFileName();
    }
}
