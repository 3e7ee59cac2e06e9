package dev.zenith.model;

/** Every error answer: what went wrong, and what to do next (may be null). */
public record ApiError(String error, String hint) {
}
