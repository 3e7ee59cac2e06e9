package dev.zenith;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.regex.Pattern;

/**
 * A tag's name. It starts with a letter, so that wherever a point is accepted ({@code --at}, {@code
 * branch=main@...}) a tag can never be mistaken for an LSN, a time or a relative time.
 */
public record TagName(String value) {

    private static final Pattern VALID = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]{0,62}");

    public TagName {
        if (!isValid(value)) {
            throw new IllegalArgumentException("invalid tag name \"" + BranchName.printable(value)
                    + "\": use 1 to 63 letters, digits, '_', '-' or '.', starting with a letter");
        }
    }

    public static boolean isValid(String value) {
        return value != null && VALID.matcher(value).matches();
    }

    @JsonCreator
    public static TagName of(String value) {
        return new TagName(value);
    }

    @JsonValue
    @Override
    public String toString() {
        return value;
    }
}
