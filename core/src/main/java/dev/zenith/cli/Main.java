package dev.zenith.cli;

import dev.zenith.BranchName;
import dev.zenith.IdleTimeout;
import dev.zenith.LogSetup;
import dev.zenith.Lsn;
import dev.zenith.StorageFault;
import dev.zenith.TagName;
import dev.zenith.ZenithException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** {@code zenith}: the command line. Everything but {@code init} talks to the pageserver's API. */
@Command(name = "zenith", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Serverless Postgres on your laptop: branches of your database, computes on demand.")
public final class Main {

    /** zenith's commands, in the order the usage lists them. */
    private static final List<Class<?>> SUBCOMMANDS = List.of(StartCommand.class, InitCommand.class,
            PageserverCommand.class, BranchCommand.class, PgCommand.class, GcCommand.class, StatusCommand.class,
            AuthCommand.class, ConnstrCommand.class, PsqlCommand.class, TagCommand.class, GitCommand.class,
            LogCommand.class, BisectCommand.class, DiffCommand.class, RemoteCommand.class, PushCommand.class, PullCommand.class, CloneCommand.class,
            ImportCommand.class, ConsoleCommand.class, VolumeCommand.class, CompletionCommand.class, CommandLine.HelpCommand.class);

    /** Commands that need every other command's model: the help and the shell completion list them all. */
    private static final Set<Class<?>> NEED_ALL = Set.of(CompletionCommand.class, CommandLine.HelpCommand.class);

    @Spec
    CommandSpec spec;

    private final Surroundings surroundings;

    @Option(names = "--repo", scope = ScopeType.INHERIT, paramLabel = "DIR",
            description = "Repository directory (default: $ZENITH_REPO_DIR, else the nearest .zenith here or above, as git finds .git).")
    Path repo;

    public static void main(String[] args) {
        System.setProperty(LogSetup.LEVEL_PROPERTY, System.getProperty(LogSetup.LEVEL_PROPERTY, "off"));
        if (args.length == 1 && args[0].equals(CDS_TRAINING)) {
            train();
            return;
        }
        System.exit(commandLine(args).execute(args));
    }

    /** The launcher's class-data-sharing archive is made from this run: it loads what a typical command loads. */
    static final String CDS_TRAINING = "--cds-training";

    private static void train() {
        CommandLine cmd = commandLine();
        cmd.setOut(new PrintWriter(java.io.OutputStream.nullOutputStream()));
        cmd.setErr(new PrintWriter(java.io.OutputStream.nullOutputStream()));
        cmd.execute("--repo", "/nonexistent/zenith-cds-training", "branch", "x", "main", "--at", "-1m");
        try {
            String json = dev.zenith.Json.MAPPER.writeValueAsString(java.util.Map.of("name", "x", "lsn", Lsn.ZERO));
            dev.zenith.Json.MAPPER.readTree(json);
            dev.zenith.Json.MAPPER.readValue("[]", new com.fasterxml.jackson.core.type.TypeReference<
                    java.util.List<dev.zenith.model.ComputeStatus>>() { });
            java.net.HttpURLConnection c = (java.net.HttpURLConnection) java.net.URI.create("http://127.0.0.1:9/").toURL().openConnection();
            c.setConnectTimeout(100);
            c.getResponseCode();
        } catch (java.io.IOException expected) {
            // nothing listens there: the classes are loaded all the same
        }
    }

    private Main(Surroundings surroundings) {
        this.surroundings = surroundings;
    }

    /**
     * Where a command runs: a working directory, and the repository {@code ZENITH_REPO_DIR} names there. This
     * process's own, or a client's when the daemon runs the client's command ({@link ServedCommands}).
     */
    record Surroundings(Path workingDirectory, Optional<Path> repositoryFromEnvironment) {
        static Surroundings ofThisProcess() {
            String env = System.getenv("ZENITH_REPO_DIR");
            return new Surroundings(Path.of("").toAbsolutePath(),
                    env == null || env.isBlank() ? Optional.empty() : Optional.of(Path.of(env)));
        }
    }

    /** The command line with every command, zenith's converters and error handling. */
    public static CommandLine commandLine() {
        return withHandlers(withSubcommands(Surroundings.ofThisProcess(), SUBCOMMANDS));
    }

    /**
     * The command line to run {@code args}: with only the command they name when they name one. Picocli reads
     * every command's annotations into its model before it parses anything, and for all of zenith's commands
     * that was half of a command's start (0.18 of 0.39 s, {@code -Xlog:class+load}); the command run needs
     * only its own. Help, completion and a word that names no command (for its "did you mean") get them all.
     */
    public static CommandLine commandLine(String... args) {
        return commandLine(Surroundings.ofThisProcess(), args);
    }

    static CommandLine commandLine(Surroundings surroundings, String... args) {
        return withHandlers(withSubcommands(surroundings, namedSubcommand(args)
                .filter(named -> !NEED_ALL.contains(named))
                .<List<Class<?>>>map(List::of)
                .orElse(SUBCOMMANDS)));
    }

    /** The command {@code args} name, if they name one. */
    static Optional<String> commandName(String... args) {
        return namedSubcommand(args).map(c -> c.getAnnotation(Command.class).name());
    }

    private static CommandLine withSubcommands(Surroundings surroundings, List<Class<?>> subcommands) {
        CommandLine cmd = new CommandLine(new Main(surroundings));
        subcommands.forEach(cmd::addSubcommand);
        return cmd;
    }

    /** The command {@code args} name: their first word that is not an option or --repo's value. */
    private static Optional<Class<?>> namedSubcommand(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--repo")) {
                i++;
            } else if (!arg.startsWith("-")) {
                return SUBCOMMANDS.stream().filter(c -> names(c).contains(arg)).findFirst();
            }
        }
        return Optional.empty();
    }

    private static List<String> names(Class<?> subcommand) {
        Command command = subcommand.getAnnotation(Command.class);
        List<String> names = new ArrayList<>(List.of(command.aliases()));
        names.add(command.name());
        return names;
    }

    /**
     * Converters and handlers last: picocli gives them to the subcommands added before, not after.
     */
    private static CommandLine withHandlers(CommandLine cmd) {
        cmd.registerConverter(BranchName.class, value -> converted(BranchName::new, value));
        cmd.registerConverter(Lsn.class, value -> converted(Lsn::parse, value));
        cmd.registerConverter(TagName.class, value -> converted(TagName::new, value));
        // parsed with the command line, so a bad value is refused before anything is started
        cmd.registerConverter(IdleTimeout.class, value -> converted(IdleTimeout::parse, value));
        cmd.setParameterExceptionHandler(Main::usageError);
        cmd.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            if (ex instanceof ZenithException z) {
                printError(err, z);
                return z.kind() == ZenithException.Kind.BAD_REQUEST ? 2 : 1;
            }
            if (ex instanceof IllegalArgumentException) {
                err.println("zenith: " + ex.getMessage());
                err.flush();
                return 2;
            }
            if (ex instanceof UncheckedIOException io) {
                printError(err, StorageFault.toError(io));
                return 1;
            }
            err.println("zenith: " + ex + ": this is a bug, please report it with the command you ran");
            err.flush();
            return 1;
        });
        return cmd;
    }

    /**
     * A value that does not parse, as the user should read it: our own message ("invalid branch name ..."),
     * not picocli's "cannot convert ... (java.lang.IllegalArgumentException: ...)".
     */
    private static <T> T converted(java.util.function.Function<String, T> parse, String value) {
        try {
            return parse.apply(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }

    /**
     * A command line that does not parse: what is wrong in one line, a "did you mean" for a mistyped
     * word, and where the help is, instead of the whole usage (exit 2, as every usage error).
     */
    private static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        String message = e.getMessage();
        if (e.getCause() instanceof CommandLine.TypeConversionException conversion) {
            message = conversion.getMessage();
        }
        err.println("zenith: " + message);
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("see: " + cmd.getCommandSpec().qualifiedName() + " --help");
        err.flush();
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }

    /** An error as every command prints it: what went wrong, then what to do. */
    static void printError(PrintWriter err, ZenithException e) {
        err.println("zenith: " + e.getMessage() + (e.hint() == null ? "" : ": " + e.hint()));
        err.flush();
    }

    /**
     * The repository directory for a command: --repo, then $ZENITH_REPO_DIR, then the nearest {@code .zenith}
     * from the current directory upward (as git finds {@code .git}), else {@code ./.zenith}.
     */
    static Path repoRoot(CommandSpec spec) {
        Path named = namedRepoRoot(spec);
        return named != null ? named : findUpward(workingDirectory(spec)).orElse(newRepoRoot(spec));
    }

    /** Where a new repository goes ({@code init}, {@code clone}): --repo, then $ZENITH_REPO_DIR, then ./.zenith. */
    static Path newRepoRoot(CommandSpec spec) {
        Path named = namedRepoRoot(spec);
        return named != null ? named : workingDirectory(spec).resolve(".zenith").normalize();
    }

    private static Path namedRepoRoot(CommandSpec spec) {
        Main main = (Main) spec.root().userObject();
        Path dir = main.repo != null ? main.repo : main.surroundings.repositoryFromEnvironment().orElse(null);
        return dir == null ? null : main.surroundings.workingDirectory().resolve(dir).normalize();
    }

    /** The directory the command runs in: relative paths the user gives are relative to it. */
    static Path workingDirectory(CommandSpec spec) {
        return ((Main) spec.root().userObject()).surroundings.workingDirectory();
    }

    /** The nearest {@code .zenith} holding a repository in {@code dir} or a directory above it. */
    static java.util.Optional<Path> findUpward(Path dir) {
        for (Path d = dir.toAbsolutePath().normalize(); d != null; d = d.getParent()) {
            Path candidate = d.resolve(".zenith");
            if (java.nio.file.Files.isRegularFile(candidate.resolve("config.json"))) {
                return java.util.Optional.of(candidate);
            }
        }
        return java.util.Optional.empty();
    }

    /** A path as the user would type it: relative to the working directory when inside it. */
    static String display(CommandSpec spec, Path path) {
        Path cwd = workingDirectory(spec);
        Path abs = path.toAbsolutePath().normalize();
        return abs.startsWith(cwd) && !abs.equals(cwd) ? cwd.relativize(abs).toString() : abs.toString();
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"zenith " + (v == null ? "dev" : v)};
        }
    }
}
