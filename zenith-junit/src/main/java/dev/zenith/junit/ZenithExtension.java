package dev.zenith.junit;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

import javax.sql.DataSource;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A fresh zenith branch for every test, as {@code @ZenithBranch} asks: made from its parent's end of WAL
 * before the test (copying no data), deleted after it. Static fields get one branch for the whole class.
 * The pageserver is reached through its HTTP API and started for the run when it is not running.
 */
public final class ZenithExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback,
        ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(ZenithExtension.class);
    /** A test's own branches, apart from its class's: a method's store also sees its class's values. */
    private static final String TEST_BRANCHES = "test-branches";
    private static final String CLASS_BRANCHES = "class-branches";

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        inject(context, null, context.getRequiredTestClass(), Optional.empty());
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        for (Object instance : context.getRequiredTestInstances().getAllInstances()) {
            inject(context, instance, instance.getClass(), Optional.of(context.getRequiredTestMethod().getName()));
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        release(context);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        release(context);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.isAnnotated(ZenithBranch.class);
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        ZenithBranch wanted = parameter.findAnnotation(ZenithBranch.class).orElseThrow();
        Class<?> type = parameter.getParameter().getType();
        try {
            return as(type, branch(context, wanted, context.getTestMethod().map(m -> m.getName())), parameter.getParameter().getName());
        } catch (SQLException e) {
            throw new ParameterResolutionException("zenith: cannot connect to the test's branch: " + e.getMessage(), e);
        }
    }

    /** Fills the {@code @ZenithBranch} fields of {@code type}: static ones when {@code instance} is null, else the instance's. */
    private void inject(ExtensionContext context, Object instance, Class<?> type, Optional<String> method) throws Exception {
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field field : c.getDeclaredFields()) {
                ZenithBranch wanted = field.getAnnotation(ZenithBranch.class);
                if (wanted == null || Modifier.isStatic(field.getModifiers()) != (instance == null)) {
                    continue;
                }
                field.setAccessible(true);
                field.set(instance, as(field.getType(), branch(context, wanted, method), field.getName()));
            }
        }
    }

    /** The branch of {@code wanted.from()} for this test (or class), made on first use. */
    private static TestBranch branch(ExtensionContext context, ZenithBranch wanted, Optional<String> method) {
        Pageserver pageserver = context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent(RunResource.class, k -> new RunResource(Pageserver.forThisRun()), RunResource.class).pageserver;
        Branches branches = context.getStore(NAMESPACE).getOrComputeIfAbsent(key(context), k -> new Branches(), Branches.class);
        Held held = branches.byParent.computeIfAbsent(wanted.from(), from -> new Held(TestBranch.make(pageserver, from,
                context.getRequiredTestClass().getSimpleName(), method)));
        held.keepOnFailure |= wanted.keepOnFailure();
        return held.branch;
    }

    private static String key(ExtensionContext context) {
        return context.getTestMethod().isPresent() ? TEST_BRANCHES : CLASS_BRANCHES;
    }

    private static Object as(Class<?> type, TestBranch branch, String what) throws SQLException {
        if (type == DataSource.class) {
            return branch.dataSource();
        }
        if (type == Connection.class) {
            return branch.connection();
        }
        if (type == String.class) {
            return branch.jdbcUrl();
        }
        throw new ExtensionConfigurationException("zenith: @ZenithBranch " + what + " is a " + type.getName()
                + "; it can be a javax.sql.DataSource, a java.sql.Connection or a String (the JDBC URL)");
    }

    /** Deletes the branches this context made, or keeps a failed test's when it asked to, saying where it is. */
    private static void release(ExtensionContext context) {
        Branches branches = context.getStore(NAMESPACE).remove(key(context), Branches.class);
        if (branches == null) {
            return;
        }
        boolean failed = context.getExecutionException().isPresent();
        for (Held held : branches.byParent.values()) {
            if (failed && held.keepOnFailure) {
                held.branch.keep();
                System.err.println("zenith: kept branch " + held.branch.name() + " of failed " + context.getDisplayName() + ": "
                        + held.branch.connectionString() + " (deleted in " + TestBranch.SAFETY_EXPIRY + " unless: zenith branch expire "
                        + held.branch.name() + " never)");
            } else {
                held.branch.close();
            }
        }
    }

    /** The branches one test (or class) holds, one per parent. */
    private static final class Branches {
        private final Map<String, Held> byParent = new LinkedHashMap<>();
    }

    private static final class Held {
        private final TestBranch branch;
        private boolean keepOnFailure;

        Held(TestBranch branch) {
            this.branch = branch;
        }
    }

    /**
     * The run's pageserver, stopped when JUnit closes the root store at the end of the run (if this run
     * started it). Both interfaces: JUnit 5.13 closes an {@code AutoCloseable} (and warns of a bare
     * {@code CloseableResource}), older versions close only a {@code CloseableResource}; either calls it once.
     */
    @SuppressWarnings("deprecation")
    private static final class RunResource implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        private final Pageserver pageserver;

        RunResource(Pageserver pageserver) {
            this.pageserver = pageserver;
        }

        @Override
        public void close() {
            pageserver.close();
        }
    }
}
