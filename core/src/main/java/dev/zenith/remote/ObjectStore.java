package dev.zenith.remote;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where a remote keeps its objects: S3 or anything that speaks it. Objects are never overwritten: every
 * write is create-only ({@code If-None-Match: *}). A branch's manifest is a series of keys, one per
 * version, where the highest wins (Neon's generations): two pushers racing for the next number leave
 * one winner and one refusal. Compare-and-swap on one key ({@code If-Match}) would be the other way, but
 * S3Proxy, the test server, lets two racing {@code If-Match} writes both through, while it holds
 * {@code If-None-Match} under the same race.
 */
public interface ObjectStore extends AutoCloseable {

    /** Writes {@code file} under {@code key} unless the key exists; true when this call wrote it. */
    boolean putIfAbsent(String key, Path file);

    /**
     * Writes {@code content} under {@code key} unless the key exists; true when this call wrote it, which
     * includes the key already holding exactly {@code content} (a retried request finding its own first try).
     */
    boolean putIfAbsent(String key, byte[] content);

    /** The object under {@code key}, if there is one. */
    default Optional<byte[]> get(String key) {
        return read(key, InputStream::readAllBytes);
    }

    /**
     * What {@code reader} makes of the object under {@code key}, read as it downloads, if there is one. A
     * failure of the connection while reading is the store's error, not an {@link IOException} of the reader's.
     */
    <T> Optional<T> read(String key, ContentReader<T> reader);

    /** Reads an object's content as it arrives. */
    @FunctionalInterface
    interface ContentReader<T> {
        T read(InputStream content) throws IOException;
    }

    /** Whether {@code key} exists. */
    boolean exists(String key);

    /** Every key under {@code prefix}. */
    default List<String> list(String prefix) {
        return listObjects(prefix).stream().map(Listed::key).toList();
    }

    /** Every object under {@code prefix}, with its size and when it was written. */
    List<Listed> listObjects(String prefix);

    /** Removes {@code key}; removing one that is gone is no error. */
    void delete(String key);

    /** An object as a listing shows it. */
    record Listed(String key, long size, Instant modified) {
    }

    @Override
    void close();
}
