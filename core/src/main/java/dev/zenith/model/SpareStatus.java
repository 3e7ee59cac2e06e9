package dev.zenith.model;

/**
 * The spare copies of images the daemon keeps ahead of new branches.
 *
 * @param ready       how many are ready to be taken
 * @param bytes       what they hold of the disk (0 where copies are clones)
 * @param budgetBytes what they may hold, where copies are written (ext4); null where they are clones; 0 when
 *                    spares are turned off ({@code spareDiskMb} -1)
 */
public record SpareStatus(int ready, long bytes, Long budgetBytes) {
}
