package dev.zenith.storage;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zenith.AtomicFiles;
import dev.zenith.Json;
import dev.zenith.ZenithException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Which layout and metadata a repository has, so that zenith's own upgrades never strand one. The number
 * is in {@code .zenith/format}; repositories made before it existed are format 1.
 *
 * <p>The policy: a zenith opens repositories of its own format and older ones, and refuses newer ones
 * with what to do. Older ones are upgraded by the pageserver as it starts (it holds the repository's
 * lock): the metadata is copied to {@code backups/format-N-TIME/} first, then each step runs, and the
 * new number is written last, atomically. Steps are idempotent, so an upgrade cut short simply runs
 * again from its start; one that fails puts the metadata back from the copy and says so. A repository
 * is never half upgraded: its number always describes all of it. Data (images, WAL, data directories)
 * is never rewritten by an upgrade.
 */
public final class RepositoryFormat {

    /** The format this zenith writes. */
    public static final int CURRENT = 4;
    static final String FILE = "format";

    /** One step from format {@link #from} to the next. Must give the same result when run again. */
    public interface Step {
        int from();

        String what();

        void apply(Path root) throws IOException;
    }

    private static final List<Step> STEPS = List.of(new RecordPgVersion(), new TagsExpiryAndProtection(), new MakeApiToken());

    private final int current;
    private final List<Step> steps;

    RepositoryFormat(int current, List<Step> steps) {
        this.current = current;
        this.steps = List.copyOf(steps);
    }

    public static RepositoryFormat thisVersion() {
        return new RepositoryFormat(CURRENT, STEPS);
    }

    /** The format of the repository in {@code root}. */
    public static int of(Path root) {
        Path file = root.resolve(FILE);
        if (!Files.exists(file)) {
            return 1;
        }
        try {
            return Integer.parseInt(Files.readString(file, StandardCharsets.UTF_8).trim());
        } catch (IOException | NumberFormatException e) {
            throw ZenithException.failed("cannot read the repository's format from " + file + ": " + e.getMessage(),
                    "restore " + file + " (it holds one number) from a backup");
        }
    }

    static void write(Path root, int format) {
        AtomicFiles.write(root.resolve(FILE), (format + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** Refuses a repository made by a newer zenith: its metadata may mean things this one does not know. */
    public void checkReadable(Path root) {
        int format = of(root);
        if (format > current) {
            throw ZenithException.failed("the repository in " + root + " was made by a newer zenith (format " + format
                    + "; this zenith reads up to " + current + ")", "upgrade zenith to open it");
        }
    }

    /**
     * Brings the repository in {@code root} to this version's format; the backup of its metadata, or
     * empty when it was already there.
     */
    public Optional<Path> upgrade(Path root) {
        checkReadable(root);
        int from = of(root);
        if (from == current) {
            return Optional.empty();
        }
        Path backup = root.resolve("backups").resolve("format-" + from + "-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        List<Path> saved = saveMetadata(root, backup);
        try {
            for (int format = from; format < current; format++) {
                int at = format;
                Step step = steps.stream().filter(s -> s.from() == at).findFirst()
                        .orElseThrow(() -> new IllegalStateException("no step from format " + at));
                step.apply(root);
            }
        } catch (IOException | RuntimeException e) {
            restore(backup, root, saved);
            throw ZenithException.failed("cannot upgrade the repository in " + root + " from format " + from + " to "
                    + current + ": " + e.getMessage() + "; it was left as it was", "the metadata as it was is also in "
                    + backup + "; report this with the pageserver log");
        }
        write(root, current);
        return Optional.of(backup);
    }

    /** The files an upgrade may change: settings, branch names, timeline and compute records, the format. */
    private static List<Path> metadata(Path root) throws IOException {
        List<Path> files = new ArrayList<>();
        for (String name : new String[] {Repository.CONFIG, "branches.json", FILE}) {
            if (Files.exists(root.resolve(name))) {
                files.add(Path.of(name));
            }
        }
        for (String dir : new String[] {"timelines", "computes"}) {
            if (Files.isDirectory(root.resolve(dir))) {
                try (Stream<Path> walk = Files.walk(root.resolve(dir), 2)) {
                    walk.filter(p -> p.getFileName().toString().endsWith(".json") && Files.isRegularFile(p))
                            .forEach(p -> files.add(root.relativize(p)));
                }
            }
        }
        return files;
    }

    private static List<Path> saveMetadata(Path root, Path backup) {
        try {
            List<Path> files = metadata(root);
            for (Path f : files) {
                Files.createDirectories(backup.resolve(f).getParent());
                AtomicFiles.copy(root.resolve(f), backup.resolve(f));
            }
            return files;
        } catch (IOException e) {
            throw ZenithException.failed("cannot back up the repository's metadata into " + backup + " before upgrading it: "
                    + e.getMessage(), "check free disk space");
        }
    }

    private static void restore(Path backup, Path root, List<Path> files) {
        try {
            for (Path f : files) {
                AtomicFiles.copy(backup.resolve(f), root.resolve(f));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot put back the metadata from " + backup, e);
        }
    }

    /**
     * 1 to 2: {@code config.json} records the PostgreSQL major version, read from the root image
     * (repositories before it ran the bundled 18, or their {@code pgBin}).
     */
    static final class RecordPgVersion implements Step {
        @Override
        public int from() {
            return 1;
        }

        @Override
        public String what() {
            return "config.json records the PostgreSQL major version";
        }

        @Override
        public void apply(Path root) throws IOException {
            ObjectNode config = (ObjectNode) Json.MAPPER.readTree(root.resolve(Repository.CONFIG).toFile());
            if (config.path("pgVersion").asInt(0) != 0) {
                return;
            }
            Optional<Integer> major = imageVersion(root);
            if (major.isPresent()) {
                config.put("pgVersion", major.get());
                AtomicFiles.write(root.resolve(Repository.CONFIG), Json.MAPPER.writerWithDefaultPrettyPrinter()
                        .writeValueAsBytes(config));
            }
        }

        private static Optional<Integer> imageVersion(Path root) throws IOException {
            Path timelines = root.resolve("timelines");
            if (!Files.isDirectory(timelines)) {
                return Optional.empty();
            }
            try (Stream<Path> versions = Files.walk(timelines, 4)) {
                return versions.filter(p -> p.getFileName().toString().equals("PG_VERSION")
                                && p.getParent().getParent().getFileName().toString().equals("images"))
                        .findFirst().map(p -> {
                            try {
                                return Integer.parseInt(Files.readString(p).trim());
                            } catch (IOException | NumberFormatException e) {
                                return null;
                            }
                        });
            }
        }
    }

    /**
     * 2 to 3: timelines may say when their branch expires and whether it is protected, and {@code tags.json}
     * may name points that garbage collection must keep. Nothing to rewrite (a record without them reads
     * as no expiry, no protection, no tags); the number goes up so that an older zenith, which would
     * collect what tags keep and cannot read the new fields, refuses the repository instead.
     */
    static final class TagsExpiryAndProtection implements Step {
        @Override
        public int from() {
            return 2;
        }

        @Override
        public String what() {
            return "tags, branch expiry and protection";
        }

        @Override
        public void apply(Path root) {
            // nothing to rewrite: see the class comment
        }
    }

    /** Format 4: the API takes requests from the repository's owner only, proven by a token in {@code api-token}. */
    static final class MakeApiToken implements Step {
        @Override
        public int from() {
            return 3;
        }

        @Override
        public String what() {
            return "an API token, so only the repository's owner drives its pageserver";
        }

        @Override
        public void apply(Path root) {
            if (!Files.exists(root.resolve(Repository.API_TOKEN))) {
                Repository.makeApiToken(root);
            }
        }
    }
}
