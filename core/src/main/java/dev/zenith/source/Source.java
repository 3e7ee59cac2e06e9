package dev.zenith.source;

import dev.zenith.ZenithException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Pattern;

/** What an import reads: a running server, named by a libpq connection string, or a dump file. */
public sealed interface Source {

    /** How the user may see the source: a server's connection string has its password left out. */
    String shown();

    /**
     * A server, as libpq's URI ({@code postgresql://user@host:5432/db}) or keywords ({@code host=... dbname=...})
     * name it; a password in it is passed to the tools and never shown or stored.
     */
    record Server(String conninfo) implements Source {

        private static final Pattern URI_PASSWORD = Pattern.compile("^(postgres(?:ql)?://[^:@/]*):[^@/]*@");
        private static final Pattern KEYWORD_PASSWORD = Pattern.compile("(^|\\s)password\\s*=\\s*('(?:[^'\\\\]|\\\\.)*'|\\S+)");

        @Override
        public String shown() {
            String s = URI_PASSWORD.matcher(conninfo).replaceFirst("$1:*****@");
            return KEYWORD_PASSWORD.matcher(s).replaceAll("$1password=*****");
        }

        /** The same server over a replication connection that also runs SQL ({@code replication=database}). */
        String replication() {
            return with("replication", "database");
        }

        /** The same server with a keyword set, whichever form the connection string has. */
        String with(String keyword, String value) {
            if (isUri(conninfo)) {
                return conninfo + (conninfo.contains("?") ? "&" : "?") + keyword + "=" + value;
            }
            return conninfo + " " + keyword + "=" + value;
        }

        static boolean isUri(String text) {
            return text.startsWith("postgresql://") || text.startsWith("postgres://");
        }
    }

    /** A dump file or directory made by pg_dump (or pg_dumpall, for plain SQL). */
    record Dump(Path path, DumpFormat format) implements Source {
        @Override
        public String shown() {
            return path.toString();
        }
    }

    /** The formats pg_dump writes. */
    enum DumpFormat {
        CUSTOM, DIRECTORY, TAR, PLAIN;

        /** Restored by pg_restore; a plain SQL dump is run by psql. */
        public boolean isArchive() {
            return this != PLAIN;
        }
    }

    /**
     * Reads what the user typed: a connection string (a URI, or keywords with {@code =}), else a dump at
     * that path, its format told by its contents as pg_restore tells it.
     */
    static Source parse(String text, Path cwd) {
        if (text == null || text.isBlank()) {
            throw ZenithException.badRequest("name what to import: a connection string such as"
                    + " postgresql://user@host:5432/db, or a dump file");
        }
        if (Server.isUri(text) || text.contains("=")) {
            return new Server(text);
        }
        Path path = cwd.resolve(text).toAbsolutePath().normalize();
        if (!Files.exists(path)) {
            throw ZenithException.badRequest("\"" + text + "\" is neither a connection string nor a dump file here (no "
                    + path + ")", "give a libpq connection string (postgresql://user@host:5432/db) or the path of a dump");
        }
        return new Dump(path, formatOf(path));
    }

    private static DumpFormat formatOf(Path path) {
        if (Files.isDirectory(path)) {
            if (Files.exists(path.resolve("toc.dat"))) {
                return DumpFormat.DIRECTORY;
            }
            throw ZenithException.badRequest(path + " is a directory without toc.dat, so not a dump of pg_dump -Fd",
                    "give the directory pg_dump -Fd wrote, or a dump file");
        }
        byte[] head = new byte[512];
        int n;
        try (InputStream in = Files.newInputStream(path)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (IOException e) {
            throw ZenithException.failed("cannot read " + path + ": " + e.getMessage(), "check that the file is readable");
        }
        if (n >= 5 && new String(head, 0, 5, StandardCharsets.US_ASCII).equals("PGDMP")) {
            return DumpFormat.CUSTOM;
        }
        if (n >= 262 && new String(head, 257, 5, StandardCharsets.US_ASCII).equals("ustar")) {
            return DumpFormat.TAR;
        }
        if (Arrays.equals(Arrays.copyOf(head, 2), new byte[] {(byte) 0x1f, (byte) 0x8b})) {
            throw ZenithException.badRequest(path + " is gzip-compressed", "gunzip it first (pg_restore reads compressed"
                    + " custom and directory dumps, not a compressed file as a whole)");
        }
        return DumpFormat.PLAIN;
    }
}
