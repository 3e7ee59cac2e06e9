package dev.zenith;

import com.fasterxml.jackson.core.JacksonException;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Locale;

/**
 * What went wrong with a file of the repository, told apart by its cause, so each gets the advice that
 * fits it: a damaged JSON file is not a full disk, and a missing file is not a permission.
 */
public enum StorageFault {
    /** A file zenith wrote no longer reads as what it wrote (edited by hand, or cut short). */
    DAMAGED("the file is damaged: restore it from a backup, or clone the repository again from its remote (zenith clone)"),
    MISSING("a file of the repository is missing: it may have been removed by hand; zenith branch and zenith pg list show"
            + " what is left"),
    NO_SPACE("the disk is full: free some space (df -h shows it; zenith gc removes history no branch needs), then run the"
            + " command again"),
    NO_PERMISSION("check the permissions of the repository's directory (it belongs to the user who ran zenith init)"),
    OTHER("check the disk's free space (df -h) and the directory's permissions, then run the command again");

    private final String hint;

    StorageFault(String hint) {
        this.hint = hint;
    }

    public static StorageFault of(IOException cause) {
        return switch (cause) {
            case JacksonException damaged -> DAMAGED;
            case NoSuchFileException missing -> MISSING;
            case FileNotFoundException denied when String.valueOf(denied.getMessage()).contains("Permission denied") -> NO_PERMISSION;
            case FileNotFoundException missing -> MISSING;
            case AccessDeniedException denied -> NO_PERMISSION;
            case FileSystemException fs when fs.getReason() != null
                    && fs.getReason().toLowerCase(Locale.ROOT).contains("no space") -> NO_SPACE;
            default -> cause.getMessage() != null && cause.getMessage().toLowerCase(Locale.ROOT).contains("no space left")
                    ? NO_SPACE : OTHER;
        };
    }

    /** The failure as an error that says what to do. */
    public static ZenithException toError(UncheckedIOException e) {
        StorageFault fault = of(e.getCause());
        return new ZenithException(ZenithException.Kind.FAILED, e.getMessage() + ": " + describe(e.getCause()), fault.hint, e);
    }

    /** What went wrong with a file, in the operating system's words, naming the file. */
    private static String describe(IOException e) {
        String what = switch (e) {
            case JacksonException damaged -> damaged.getOriginalMessage();
            case NoSuchFileException missing -> "no such file or directory";
            case AccessDeniedException denied -> "permission denied";
            case FileSystemException fs when fs.getReason() != null -> fs.getReason();
            default -> e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        };
        return e instanceof FileSystemException fs && fs.getFile() != null ? what + " (" + fs.getFile() + ")" : what;
    }
}
