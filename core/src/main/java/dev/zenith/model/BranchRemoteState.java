package dev.zenith.model;

/** How a branch stands against one remote, as the console shows it; {@code state} null when the remote could not be read. */
public record BranchRemoteState(String branch, String remote, RemoteState state, String detail) {
}
