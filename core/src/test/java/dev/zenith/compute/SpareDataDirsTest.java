package dev.zenith.compute;

import dev.zenith.Lsn;
import dev.zenith.storage.FileTrees;
import dev.zenith.storage.Image;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Spare copies of images on real directories: made in the background, taken once, pruned, evicted. */
class SpareDataDirsTest {

    @TempDir
    Path dir;
    private Path tmp;
    private final AtomicInteger copies = new AtomicInteger();

    @BeforeEach
    void makeTmp() throws IOException {
        tmp = Files.createDirectories(dir.resolve("tmp"));
    }

    /** Copies the image's one file, as the data directory maker copies a whole image. */
    private final BiFunction<Image, String, Path> copy = (image, name) -> {
        try {
            Path target = Files.createDirectories(tmp.resolve(name));
            Files.copy(image.dataDir().resolve("PG_VERSION"), target.resolve("PG_VERSION"));
            copies.incrementAndGet();
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    };

    @Test
    void aSpareIsMadeInTheBackgroundThenTakenOnceAndMadeAgain() throws Exception {
        Image image = image("0000000001000028-00000001");
        try (SpareDataDirs spares = new SpareDataDirs(4, SpareDataDirs.Budget.CLONES, tmp, copy)) {
            assertThat(spares.take(image)).as("nothing before the first replenish").isEmpty();
            spares.replenish(image);
            Path spare = awaitSpare(spares, image);
            assertThat(spare.getFileName().toString()).startsWith("spare-" + image.dataDir().getFileName() + "-");
            assertThat(spare.resolve("PG_VERSION")).hasContent("18");
            assertThat(spares.take(image)).as("a spare is handed out once").isEmpty();
            spares.replenish(image);
            assertThat(awaitSpare(spares, image)).isNotEqualTo(spare);
            assertThat(copies.get()).isEqualTo(2);
        }
    }

    @Test
    void noSparesAtCapacityZero() throws Exception {
        Image image = image("0000000001000028-00000001");
        try (SpareDataDirs spares = new SpareDataDirs(0, SpareDataDirs.Budget.CLONES, tmp, copy)) {
            spares.replenish(image);
            spares.replenish(image);
        }
        assertThat(copies.get()).isZero();
        assertThat(listTmp()).isEmpty();
    }

    @Test
    void pruneRemovesSparesUnusedForAWhileAndThoseOfImagesGone() throws Exception {
        Image kept = image("0000000001000028-00000001");
        Image gone = image("0000000002000028-00000001");
        try (SpareDataDirs spares = new SpareDataDirs(4, SpareDataDirs.Budget.CLONES, tmp, copy)) {
            spares.replenish(kept);
            spares.replenish(gone);
            awaitReady(spares, 2);
            FileTrees.deleteTree(gone.dataDir());
            spares.prune(Instant.now());
            assertThat(listTmp()).singleElement().satisfies(p -> assertThat(p.getFileName().toString())
                    .startsWith("spare-" + kept.dataDir().getFileName()));
            spares.prune(Instant.now().plus(SpareDataDirs.IDLE).plusSeconds(1));
            assertThat(listTmp()).as("unused for longer than " + SpareDataDirs.IDLE).isEmpty();
            assertThat(spares.take(kept)).isEmpty();
        }
    }

    @Test
    void theLeastRecentlyUsedReadySpareMakesRoom() throws Exception {
        Image first = image("0000000001000028-00000001");
        Image second = image("0000000002000028-00000001");
        try (SpareDataDirs spares = new SpareDataDirs(1, SpareDataDirs.Budget.CLONES, tmp, copy)) {
            spares.replenish(first);
            awaitReady(spares, 1);
            spares.replenish(second);
            Path spare = awaitSpare(spares, second);
            assertThat(spares.take(first)).as("removed to make room").isEmpty();
            assertThat(listTmp()).as("the first one's copy is gone").containsExactly(spare);
        }
    }

    /** Written copies: each spare costs its image's bytes, and the spares held keep within the budget. */
    @Test
    void sparesThatCostBytesKeepWithinTheirBudget() throws Exception {
        Image first = image("0000000001000028-00000001");
        Image second = image("0000000002000028-00000001");
        Image large = image("0000000003000028-00000001");
        SpareDataDirs.Budget budget = new SpareDataDirs.Budget(held -> 150, image -> image == large ? 200 : 100);
        try (SpareDataDirs spares = new SpareDataDirs(4, budget, tmp, copy)) {
            spares.replenish(first);
            awaitReady(spares, 1);
            assertThat(spares.state()).isEqualTo(new SpareDataDirs.State(1, 100, 150));
            spares.replenish(second);
            Path spare = awaitSpare(spares, second);
            assertThat(spares.take(first)).as("given way: two do not fit 150 bytes").isEmpty();
            assertThat(listTmp()).containsExactly(spare);
            spares.replenish(large);
            spares.replenish(first);
            awaitReady(spares, 2);
            assertThat(spares.take(large)).as("larger than the whole budget").isEmpty();
            assertThat(spares.state()).isEqualTo(new SpareDataDirs.State(1, 100, 150));
            assertThat(copies.get()).as("the large image was never copied").isEqualTo(3);
        }
    }

    @Test
    void aFailedCopyLeavesNoSpareAndAnotherIsTriedLater() throws Exception {
        Image image = image("0000000001000028-00000001");
        Image broken = new Image(new Lsn(2), 1, dir.resolve("images").resolve("later"));
        try (SpareDataDirs spares = new SpareDataDirs(4, SpareDataDirs.Budget.CLONES, tmp, copy)) {
            spares.replenish(broken);
            spares.replenish(image);
            Path spare = awaitSpare(spares, image);
            assertThat(spares.take(broken)).isEmpty();
            assertThat(listTmp()).as("the failed copy's leftovers are removed").containsExactly(spare);
            image("later"); // the image's directory now exists: the next try succeeds
            spares.replenish(broken);
            assertThat(awaitSpare(spares, broken)).exists();
        }
    }

    /** An image directory {@code images/NAME} holding one file. */
    private Image image(String name) throws IOException {
        Path imageDir = Files.createDirectories(dir.resolve("images").resolve(name));
        Files.writeString(imageDir.resolve("PG_VERSION"), "18");
        return new Image(new Lsn(1), 1, imageDir);
    }

    private static Path awaitSpare(SpareDataDirs spares, Image image) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            Optional<Path> spare = spares.take(image);
            if (spare.isPresent()) {
                return spare.get();
            }
            pause();
        }
        throw new AssertionError("no spare of " + image.dataDir() + " within 30 s");
    }

    private void awaitReady(SpareDataDirs spares, int count) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (listTmp().stream().filter(p -> !p.getFileName().toString().startsWith("spare-copying-")).count() < count) {
            assertThat(System.nanoTime()).as(count + " spares within 30 s").isLessThan(deadline);
            pause();
        }
    }

    private static void pause() {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private List<Path> listTmp() {
        try (Stream<Path> files = Files.list(tmp)) {
            return files.toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
