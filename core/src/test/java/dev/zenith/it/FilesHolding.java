package dev.zenith.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** A byte search through directory trees: which files hold a value, in whatever page, segment or image it lies. */
final class FilesHolding {

    private FilesHolding() {
    }

    /** The files under {@code roots} whose bytes contain {@code text} (ASCII). */
    static List<Path> of(List<Path> roots, String text) {
        byte[] needle = text.getBytes(StandardCharsets.US_ASCII);
        List<Path> holding = new ArrayList<>();
        for (Path root : roots) {
            try (Stream<Path> files = Files.walk(root)) {
                files.filter(Files::isRegularFile).filter(f -> contains(read(f), needle)).forEach(holding::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return holding;
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            return new byte[0]; // removed while walking (a segment archived, a temporary file)
        }
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
