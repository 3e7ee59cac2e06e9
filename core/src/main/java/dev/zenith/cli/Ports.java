package dev.zenith.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The ports a pageserver start needs, checked all at once before anything starts, each taken one named with
 * the program holding it: another zenith's pageserver (and its repository), a PostgreSQL, or whatever else.
 */
final class Ports {

    /** A port the pageserver would listen on: what for, where, the option that sets it, and where to look for a free one. */
    record Wanted(String what, String address, int port, String option, int suggestFrom) {
    }

    /** A wanted port that something else listens on already. */
    record Taken(Wanted wanted, String holder) {
        @Override
        public String toString() {
            return wanted.port() + " (" + wanted.what() + ") is held by " + holder;
        }
    }

    private Ports() {
    }

    static List<Taken> taken(List<Wanted> wanted) {
        List<Taken> taken = new ArrayList<>();
        for (Wanted w : wanted) {
            if (!free(w.address(), w.port())) {
                taken.add(new Taken(w, holder(w.port())));
            }
        }
        return taken;
    }

    static boolean free(String address, int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true); // as the listeners do: a port left in TIME_WAIT is free for them
            s.bind(new java.net.InetSocketAddress(InetAddress.getByName(address), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The first free port from {@code from} on that is not in {@code besides}. */
    static int freeFrom(String address, int from, List<Integer> besides) {
        for (int p = from; p < from + 1000 && p <= 65535; p++) {
            if (!besides.contains(p) && free(address, p)) {
                return p;
            }
        }
        return from;
    }

    /**
     * Who listens on {@code port}, read from Linux's /proc (the socket's inode in /proc/net/tcp, then the
     * process whose descriptors hold it): by hand, as the JDK tells a port's state but not its owner.
     * Another user's processes are not readable: then it is "another program".
     */
    static String holder(int port) {
        Optional<String> inode = listeningInode(port);
        if (inode.isEmpty()) {
            return "another program";
        }
        String socket = "socket:[" + inode.get() + "]";
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            for (Path process : processes.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                if (holds(process, socket)) {
                    return describe(process);
                }
            }
        } catch (IOException | RuntimeException unreadable) {
            // fall through: not Linux, or no access
        }
        return "another program";
    }

    private static Optional<String> listeningInode(int port) {
        String hexPort = String.format(Locale.ROOT, ":%04X", port);
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try {
                for (String line : Files.readAllLines(Path.of(table))) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 9 && f[1].endsWith(hexPort) && f[3].equals("0A")) { // 0A: LISTEN
                        return Optional.of(f[9]);
                    }
                }
            } catch (IOException | RuntimeException unreadable) {
                // not Linux
            }
        }
        return Optional.empty();
    }

    private static boolean holds(Path process, String socket) {
        try (Stream<Path> fds = Files.list(process.resolve("fd"))) {
            return fds.anyMatch(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().equals(socket);
                } catch (IOException gone) {
                    return false;
                }
            });
        } catch (IOException | RuntimeException noAccess) {
            return false;
        }
    }

    private static String describe(Path process) throws IOException {
        String pid = process.getFileName().toString();
        List<String> args = List.of(new String(Files.readAllBytes(process.resolve("cmdline")), StandardCharsets.UTF_8).split("\0"));
        int repo = args.indexOf("--repo");
        if (args.contains("dev.zenith.cli.Main") && args.contains("pageserver") && repo >= 0 && repo + 1 < args.size()) {
            return "the zenith pageserver of " + args.get(repo + 1) + " (pid " + pid + ")";
        }
        String program = args.isEmpty() ? "" : Path.of(args.get(0)).getFileName().toString();
        if (program.equals("postgres") || program.equals("postmaster")) {
            return "a PostgreSQL server (pid " + pid + ", " + args.get(0) + ")";
        }
        return program + " (pid " + pid + ")";
    }
}
