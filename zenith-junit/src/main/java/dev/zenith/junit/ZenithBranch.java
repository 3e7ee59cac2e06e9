package dev.zenith.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A branch of its own for a test: on a parameter or field of type {@link javax.sql.DataSource},
 * {@link java.sql.Connection} or {@link String} (the JDBC URL), with {@link ZenithExtension} registered.
 * On a parameter or an instance field, each test method gets a new branch of {@link #from} made at its
 * end of WAL, deleted after the test; on a static field, the tests of the class share one.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.PARAMETER, ElementType.FIELD})
public @interface ZenithBranch {

    /** The branch to branch from. */
    String from() default "main";

    /** Keep the branch of a failed test, and print its name and connection string. */
    boolean keepOnFailure() default false;
}
