package dev.zenith;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import ch.qos.logback.core.spi.ContextAwareBase;
import ch.qos.logback.core.util.FileSize;

import java.nio.file.Path;

/**
 * Logback's configuration, in code and found through {@link java.util.ServiceLoader}: parsing a
 * {@code logback.xml} (Joran) would cost every CLI command a fraction of a second for nothing.
 * <ul>
 *   <li>The daemon ({@value #FILE_PROPERTY} set) writes {@code pageserver.log} at INFO and rolls it by
 *       size: {@code pageserver.log.1} up to {@code .}{@value RotatedLog#KEPT}, the oldest dropped, so
 *       the log never grows past {@value RotatedLog#KEPT}+1 times {@value #MAX_SIZE_PROPERTY} (10 MiB).</li>
 *   <li>Everything else logs to standard error at {@value #LEVEL_PROPERTY} (INFO unless set): the CLI
 *       sets it to OFF, since a user's terminal gets messages, never log lines.</li>
 * </ul>
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class LogSetup extends ContextAwareBase implements Configurator {

    /** The system property naming the daemon's log file. */
    public static final String FILE_PROPERTY = "zenith.log.file";
    /** The system property with the level of the console log (no file): OFF, ERROR, WARN, INFO, DEBUG. */
    public static final String LEVEL_PROPERTY = "zenith.log.level";
    /** Each generation's size unless {@value #MAX_SIZE_PROPERTY} says otherwise (a 30-second history run writes about 1 MiB). */
    public static final long MAX_FILE_SIZE = 10L << 20;
    /** The system property with each generation's size in bytes: config.json's {@code maxLogMb}. */
    public static final String MAX_SIZE_PROPERTY = "zenith.log.max-size";
    private static final String PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS} [%thread] [%level] %logger{0} - %msg%n";

    /**
     * Points this process's log at {@code file} from now on, whatever was configured before: a class the
     * CLI touched before the daemon started may already have made logback configure itself for the console.
     */
    public static void toFile(Path file, long maxFileSize) {
        System.setProperty(FILE_PROPERTY, file.toString());
        System.setProperty(MAX_SIZE_PROPERTY, Long.toString(maxFileSize));
        if (org.slf4j.LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.reset();
            new LogSetup().configure(context);
        }
    }

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        String file = System.getProperty(FILE_PROPERTY);
        if (file != null) {
            root.setLevel(Level.INFO);
            root.addAppender(rollingFile(context, Path.of(file)));
            return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
        }
        Level level = Level.toLevel(System.getProperty(LEVEL_PROPERTY), Level.INFO);
        root.setLevel(level);
        if (level != Level.OFF) {
            ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
            console.setName("console");
            console.setTarget("System.err");
            start(context, console);
            root.addAppender(console);
        }
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    private static RollingFileAppender<ILoggingEvent> rollingFile(LoggerContext context, Path file) {
        RollingFileAppender<ILoggingEvent> appender = new RollingFileAppender<>();
        appender.setContext(context);
        appender.setName("file");
        appender.setFile(file.toString());
        FixedWindowRollingPolicy rolling = new FixedWindowRollingPolicy();
        rolling.setContext(context);
        rolling.setParent(appender);
        rolling.setFileNamePattern(file + ".%i");
        rolling.setMinIndex(1);
        rolling.setMaxIndex(RotatedLog.KEPT);
        rolling.start();
        SizeBasedTriggeringPolicy<ILoggingEvent> trigger = new SizeBasedTriggeringPolicy<>();
        trigger.setContext(context);
        trigger.setMaxFileSize(new FileSize(Long.getLong(MAX_SIZE_PROPERTY, MAX_FILE_SIZE)));
        // the size is read at every line (a stat): the daemon writes a few lines a second, and the cap then holds exactly
        trigger.setCheckIncrement(ch.qos.logback.core.util.Duration.buildByMilliseconds(0));
        trigger.start();
        appender.setRollingPolicy(rolling);
        appender.setTriggeringPolicy(trigger);
        start(context, appender);
        return appender;
    }

    private static void start(LoggerContext context, OutputStreamAppender<ILoggingEvent> appender) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        appender.setContext(context);
        appender.setEncoder(encoder);
        appender.start();
    }
}
