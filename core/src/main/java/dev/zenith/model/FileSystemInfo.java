package dev.zenith.model;

/**
 * The file system a repository sits on, and what that means for a branch's cost.
 *
 * @param type        as the OS names it: {@code xfs}, {@code btrfs}, {@code ext4}, {@code apfs}
 * @param clones      whether it clones files (copy-on-write), checked by trying
 * @param imageBytes  the size of main's newest image: what a started branch copies when it cannot clone
 */
public record FileSystemInfo(String type, boolean clones, long imageBytes) {

    /** One line on what a started branch costs here. */
    public String branchCost(String bytesText) {
        return clones
                ? "copy-on-write: a started branch costs only the blocks it changes"
                : "no copy-on-write: a started branch copies its image (" + bytesText + " now); "
                + "on XFS or btrfs branches share them: zenith volume create 20G PATH makes one in a file (see README)";
    }
}
