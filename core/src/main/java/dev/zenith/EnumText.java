package dev.zenith;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** A setting whose values are an enum's constants, written in lower case in config.json and on the command line. */
final class EnumText {

    private EnumText() {
    }

    static String of(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }

    /** The constant written as {@code text}; anything else is an {@link IllegalArgumentException} naming the setting and its values. */
    static <E extends Enum<E>> E parse(Class<E> type, String setting, String text) {
        E[] values = type.getEnumConstants();
        for (E value : values) {
            if (of(value).equals(text)) {
                return value;
            }
        }
        throw new IllegalArgumentException("invalid " + setting + " \"" + BranchName.printable(text) + "\": use "
                + Arrays.stream(values).map(EnumText::of).collect(Collectors.joining(values.length == 2 ? " or " : ", ")));
    }
}
