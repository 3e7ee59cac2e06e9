package dev.zenith.cli;

import dev.zenith.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A project's {@code .env} file, as dotenv tools read it: {@code KEY=value} lines. Only the line of the
 * key being set changes; comments, order and every other line stay as they are.
 */
final class EnvFile {

    private EnvFile() {
    }

    /** Sets {@code key} to {@code value} (replacing its line, or adding one at the end); returns whether anything changed. */
    static boolean set(Path file, String key, String value) {
        Pattern line = Pattern.compile("^\\s*(export\\s+)?" + Pattern.quote(key) + "\\s*=.*$");
        try {
            List<String> lines = Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
            List<String> updated = new ArrayList<>();
            boolean found = false;
            for (String l : lines) {
                var m = line.matcher(l);
                if (m.matches()) {
                    updated.add((m.group(1) == null ? "" : m.group(1)) + key + "=" + value);
                    found = true;
                } else {
                    updated.add(l);
                }
            }
            if (!found) {
                updated.add(key + "=" + value);
            }
            if (updated.equals(lines)) {
                return false;
            }
            byte[] content = (String.join("\n", updated) + "\n").getBytes(StandardCharsets.UTF_8);
            if (Files.exists(file)) {
                AtomicFiles.write(file, content, Files.getPosixFilePermissions(file)); // a .env often holds secrets: keep its mode
            } else {
                AtomicFiles.write(file, content);
            }
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot update " + file, e);
        }
    }
}
