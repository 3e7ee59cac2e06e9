package dev.zenith.postgres;

import dev.zenith.RepositoryConfig;
import dev.zenith.ZenithException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The OS user Postgres runs as. {@code initdb}, {@code pg_ctl} and {@code postgres} refuse to run as
 * root, so when zenith itself runs as root (CI, containers) every Postgres command is started through
 * {@code setpriv} as an unprivileged user, and the directories Postgres writes are handed to it.
 * Otherwise Postgres runs as the current user and nothing changes hands.
 */
public record OsUser(String name, int uid, int gid, boolean switched) {

    public static final String DEFAULT_AS_ROOT = RepositoryConfig.DEFAULT_OS_USER_AS_ROOT;

    public static OsUser resolve(String configured) {
        int current = currentUid();
        if (current != 0) {
            if (configured != null && !configured.isBlank() && !configured.equals(System.getProperty("user.name"))) {
                throw ZenithException.badRequest("--os-user " + configured
                        + " needs zenith to run as root; as " + System.getProperty("user.name")
                        + ", Postgres runs as " + System.getProperty("user.name") + ": leave --os-user out");
            }
            return new OsUser(System.getProperty("user.name"), current, -1, false);
        }
        String name = configured == null || configured.isBlank() ? DEFAULT_AS_ROOT : configured;
        int uid = id(name, "-u");
        if (uid == 0) {
            throw ZenithException.badRequest("--os-user " + name + " is root; Postgres refuses to run as root:"
                    + " choose an unprivileged user (the default is " + DEFAULT_AS_ROOT + ")");
        }
        if (!PgDistribution.isLinux()) {
            throw ZenithException.failed("running zenith as root is supported on Linux only", "run it as your own user");
        }
        return new OsUser(name, uid, id(name, "-g"), true);
    }

    public static int currentUid() {
        return (int) new com.sun.security.auth.module.UnixSystem().getUid();
    }

    /** The command line that runs {@code command} as this user. */
    public List<String> command(List<String> command) {
        if (!switched) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    /** Hands a file or directory to this user (no-op when Postgres runs as the current user). */
    public void own(Path path) {
        if (!switched) {
            return;
        }
        try {
            chown(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot hand " + path + " to OS user " + name, e);
        }
    }

    /** As {@link #own}, for a directory and everything in it. */
    public void ownTree(Path dir) {
        if (!switched) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.toList()) {
                chown(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot hand " + dir + " to OS user " + name, e);
        }
    }

    /**
     * Closes the repository to other local users: its WAL, images and password are the user's data.
     * Mode 0700; when Postgres runs as another user (zenith as root), 0750 with that user's group, so
     * Postgres can still enter it.
     */
    public void closeToOthers(Path root) {
        try {
            if (switched) {
                Files.setAttribute(root, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
            }
            Files.setPosixFilePermissions(root, java.nio.file.attribute.PosixFilePermissions.fromString(switched ? "rwxr-x---" : "rwx------"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restrict access to " + root, e);
        }
    }

    private void chown(Path p) throws IOException {
        Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Refuses a directory this user cannot enter, naming the first ancestor that blocks it: a repository
     * under {@code /root} is the usual case.
     */
    public void checkCanReach(Path dir, String what) {
        if (!switched) {
            return;
        }
        Path absolute = dir.toAbsolutePath().normalize();
        Path blocked = null;
        for (Path p = absolute; p != null; p = p.getParent()) {
            if (!run(List.of("test", "-x", p.toString()))) {
                blocked = p;
            }
        }
        if (blocked != null) {
            throw ZenithException.failed("Postgres runs as OS user " + name + " (zenith runs as root), and "
                    + name + " cannot enter " + blocked + ", so it cannot reach the " + what + " " + absolute,
                    "put it under a directory others can enter (for example /srv or /tmp), "
                    + "or give " + name + " access with chmod o+x " + blocked);
        }
    }

    private boolean run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command(command)).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static int id(String name, String flag) {
        try {
            Process p = new ProcessBuilder("id", flag, name).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw ZenithException.badRequest("OS user \"" + name + "\" does not exist: create it"
                        + " (useradd --system " + name + ") or choose another with --os-user");
            }
            return Integer.parseInt(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run id " + flag + " " + name, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ZenithException.failed("interrupted", null);
        }
    }
}
