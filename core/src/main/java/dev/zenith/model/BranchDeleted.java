package dev.zenith.model;

import dev.zenith.BranchName;

/**
 * What deleting a branch freed, and what keeps its history: the branches grown from it and the tags naming
 * points of it ({@code tag NAME}); empty when its history went with it.
 */
public record BranchDeleted(BranchName name, long freedBytes, java.util.List<String> historyKeptFor) {
}
