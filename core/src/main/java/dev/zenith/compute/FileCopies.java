package dev.zenith.compute;

/** How the repository's file system copies a file: by cloning its blocks, or by writing them again. */
enum FileCopies {
    /** Reflink (XFS, btrfs) or clonefile (APFS): a copy costs the blocks later changed. */
    CLONE,
    /** Every copy writes every byte (ext4, tmpfs). */
    WRITE
}
