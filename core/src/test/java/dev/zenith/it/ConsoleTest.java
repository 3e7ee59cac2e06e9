package dev.zenith.it;

import dev.zenith.BranchName;
import dev.zenith.storage.FileTrees;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The console in a real browser: Debian's Chromium, headless, driven through its chromedriver. Every
 * change reaches the page through the event stream, never by reloading it.
 */
class ConsoleTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    /** Where the screenshot goes: a test artifact, and the picture README shows when copied to docs/. */
    static final Path SCREENSHOT = Path.of("target", "artifacts", "console.png");

    private static Zenith z;
    private static ChromeDriver browser;
    private static Path profile;

    @BeforeAll
    static void start() throws Exception {
        boolean installed = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (System.getenv("CI") == null) {
            Assumptions.assumeTrue(installed, "apt-get install chromium chromium-driver to run the console test");
        }
        assertThat(installed).as("chromium and chromedriver are installed by .ci/run").isTrue();
        z = Zenith.empty();
        z.init("--idle-timeout", "2s").ok();
        z.cli("pageserver", "start").ok();
        profile = Files.createTempDirectory("zenith-chromium");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile, "--window-size=1280,1000");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .withLogFile(z.dir().resolve("chromedriver.log").toFile())
                .build();
        browser = new ChromeDriver(service, options);
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (z != null) {
            z.close();
        }
        if (profile != null) {
            dev.zenith.storage.FileTrees.deleteTree(profile);
        }
    }

    @Test
    void clickThroughCreateConnectSuspendAndDelete() throws Exception {
        String console = "http://127.0.0.1:" + z.apiPort();
        // as a user who allowed the page to use the clipboard, so the test can read what Copy put there
        browser.executeCdpCommand("Browser.grantPermissions", Map.of("origin", console,
                "permissions", java.util.List.of("clipboardReadWrite", "clipboardSanitizedWrite")));
        browser.get(z.consoleLink()); // logs in, then lands on the console
        WebElement main = row("main");
        assertThat(main.findElement(By.cssSelector(".origin")).getText()).startsWith("root");
        waitFor(ExpectedConditions.attributeToBe(By.id("live"), "data-ok", "true"));

        // create a branch from main, now
        browser.findElement(By.id("new-branch")).click();
        browser.findElement(By.id("create-name")).sendKeys("feature");
        new Select(browser.findElement(By.id("create-parent"))).selectByValue("main");
        browser.findElement(By.cssSelector("#create-form button[type=submit]")).click();
        waitFor(ExpectedConditions.invisibilityOfElementLocated(By.id("create-dialog")));
        WebElement feature = row("feature");
        assertThat(z.repository().branches().all()).containsKey(new BranchName("feature"));
        assertThat(feature.getAttribute("data-depth")).isEqualTo("1");
        assertThat(feature.findElement(By.cssSelector(".origin")).getText()).startsWith("from main at 0/");
        assertThat(feature.findElement(By.cssSelector(".connection-string")).getText())
                .isEqualTo("postgresql://" + System.getProperty("user.name") + "@127.0.0.1:" + z.proxyPort()
                        + "/postgres?options=branch%3Dfeature");
        assertState("feature", "stopped");

        // a client connects through the proxy: the page shows the compute running with one connection
        try (Connection c = z.connectProxy("feature"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE console_seen (x int)");
            assertState("feature", "running");
            waitFor(d -> text("feature", ".connections").equals("1"));
            // a branch made from the CLI shows up too, and one from a past point in the dialog
            z.cli("branch", "from_cli", "feature").ok();
            row("from_cli");
            createAtPast("second_ago", "main", "-1s");
            row("second_ago");
            Files.createDirectories(SCREENSHOT.getParent());
            Files.copy(browser.getScreenshotAs(OutputType.FILE).toPath(), SCREENSHOT, StandardCopyOption.REPLACE_EXISTING);
        }
        // the client leaves: after the 2 s idle timeout the compute is suspended, and the page says so
        assertState("feature", "suspended");
        assertThat(text("feature", ".connections")).isEqualTo("0");

        // start and suspend by hand
        button("second_ago", "start").click();
        assertState("second_ago", "running");
        button("second_ago", "suspend").click();
        assertState("second_ago", "suspended");

        // reset without a backup: what was written on the branch is gone, and no backup branch appears
        try (Connection c = z.connectProxy("second_ago"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE to_be_reset (x int)");
        }
        button("second_ago", "reset").click();
        WebElement backup = browser.findElement(By.id("confirm-backup"));
        assertThat(backup.isSelected()).isTrue();
        backup.click();
        browser.findElement(By.id("confirm-ok")).click();
        waitFor(ExpectedConditions.invisibilityOfElementLocated(By.id("confirm-dialog")));
        try (Connection c = z.connectProxy("second_ago"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_tables WHERE tablename = 'to_be_reset'")) {
            rs.next();
            assertThat(rs.getInt(1)).isZero();
        }
        assertThat(z.repository().branches().all().keySet()).noneMatch(b -> b.value().startsWith("second_ago_old"));

        // the copy button puts the connection string where the user can paste it
        button("feature", "copy").click();
        // the clipboard, or without its permission the selection (the label says which for 1.5 s only)
        waitFor(d -> button("feature", "copy").getAttribute("data-copied") != null);
        Object copied = browser.executeAsyncScript("const done = arguments[arguments.length - 1];"
                + "const selection = () => done(getSelection().toString());"
                + "if (arguments[0] === 'selection') { selection(); return; }"
                + "navigator.clipboard.readText().then(done, selection);",
                button("feature", "copy").getAttribute("data-copied"));
        assertThat(copied).isEqualTo(text("feature", ".connection-string"));

        // the CLI's refusals, word for word: a branch protected while its delete dialog was open cannot be
        // deleted (protected first, the console would disable its Delete button as soon as it heard of it)
        button("feature", "delete").click();
        waitFor(d -> d.findElement(By.id("confirm-ok")).isDisplayed());
        z.cli("branch", "protect", "feature").ok();
        String refusal = z.cli("branch", "delete", "feature").err();
        browser.findElement(By.id("confirm-ok")).click();
        WebElement error = browser.findElement(By.cssSelector("#confirm-form .error"));
        waitFor(d -> !error.getText().isBlank());
        assertThat(refusal).contains(error.getText().replaceAll(" \\(.*\\)$", ""));
        assertThat(error.getText()).contains("is protected");
        browser.findElement(By.cssSelector("#confirm-form [data-close]")).click();
        z.cli("branch", "unprotect", "feature").ok();

        // rename, then delete with confirmation
        button("from_cli", "rename").click();
        WebElement to = browser.findElement(By.id("rename-to"));
        to.clear();
        to.sendKeys("renamed");
        browser.findElement(By.cssSelector("#rename-form button[type=submit]")).click();
        row("renamed");
        waitFor(ExpectedConditions.numberOfElementsToBe(By.cssSelector("[data-branch=from_cli]"), 0));

        button("renamed", "delete").click();
        browser.findElement(By.id("confirm-ok")).click();
        waitFor(ExpectedConditions.numberOfElementsToBe(By.cssSelector("[data-branch=renamed]"), 0));
        button("feature", "delete").click();
        browser.findElement(By.id("confirm-ok")).click();
        waitFor(ExpectedConditions.numberOfElementsToBe(By.cssSelector("[data-branch=feature]"), 0));
        assertThat(z.repository().branches().all()).doesNotContainKeys(new BranchName("feature"), new BranchName("renamed"));
        assertThat(browser.findElement(By.id("toast")).isDisplayed()).isFalse();
    }

    /**
     * A hundred branches: the page shows them from its first plain request (the event stream is switched off
     * here), as a compact list of one line each, which a filter narrows and a click on a name opens.
     */
    @Test
    void aHundredBranchesAreACompactFilterableListShownBeforeTheStreamConnects() {
        int existing = z.repository().branches().all().size();
        List<String> made = new java.util.ArrayList<>();
        for (int i = 0; made.size() + existing < 100; i++) {
            z.cli("branch", "many-" + i, "main").ok();
            made.add("many-" + i);
        }
        Map<String, Object> noStream = browser.executeCdpCommand("Page.addScriptToEvaluateOnNewDocument",
                Map.of("source", "window.EventSource = class { addEventListener() {} };"));
        try {
            browser.get(z.consoleLink()); // logs in, then lands on the console
            row(made.get(made.size() - 1));
            assertThat(browser.findElement(By.id("live")).getText()).as("no stream connected").isNotEqualTo("live");
            assertThat(browser.findElements(By.cssSelector("#branches > li"))).hasSize(100);
            assertThat(browser.findElement(By.id("compact")).isSelected()).isTrue();
            assertThat(row("many-5").getSize().getHeight()).as("one line a branch").isLessThan(60);
            assertThat(row("many-5").findElement(By.cssSelector(".connection-string")).isDisplayed()).isFalse();

            browser.findElement(By.id("filter")).sendKeys("many-4");
            waitFor(d -> browser.findElements(By.cssSelector("#branches > li:not([hidden])")).size() == 11); // many-4, many-40..49
            assertThat(browser.findElement(By.id("filter-count")).getText()).isEqualTo("11 of 100");
            row("many-4").findElement(By.cssSelector(".name")).click();
            waitFor(d -> row("many-4").findElement(By.cssSelector(".connection-string")).isDisplayed());
            assertThat(text("many-4", ".connection-string")).endsWith("options=branch%3Dmany-4");
        } finally {
            browser.executeCdpCommand("Page.removeScriptToEvaluateOnNewDocument", Map.of("identifier", noStream.get("identifier")));
            made.forEach(name -> z.cli("branch", "delete", name).ok());
        }
    }

    @Test
    void invalidNamesAreRefusedInTheDialogAndNothingIsMade() {
        browser.get(z.consoleLink()); // logs in, then lands on the console
        row("main");
        var before = Map.copyOf(z.repository().branches().all());
        browser.findElement(By.id("new-branch")).click();
        browser.findElement(By.id("create-name")).sendKeys("../bad name");
        browser.findElement(By.cssSelector("#create-form button[type=submit]")).click();
        assertThat(browser.findElement(By.cssSelector("#create-form .error")).getText()).contains("is not a valid name");
        WebElement name = browser.findElement(By.id("create-name"));
        name.clear();
        name.sendKeys("fine");
        browser.findElement(By.cssSelector("#create-form input[name=when][value=past]")).click();
        browser.findElement(By.id("create-at")).sendKeys("yesterday at noon");
        browser.findElement(By.cssSelector("#create-form button[type=submit]")).click();
        WebElement error = browser.findElement(By.cssSelector("#create-form .error"));
        waitFor(d -> error.getText().contains("yesterday at noon"));
        assertThat(z.repository().branches().all()).isEqualTo(before);
        browser.findElement(By.cssSelector("#create-form [data-close]")).click();
    }

    @Test
    void theConsoleCannotBeFramedAndItsStreamRefusesOtherOrigins() throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + z.apiPort();
        var page = http.send(z.authorized(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/"))).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(
                p -> assertThat(p).contains("frame-ancestors 'none'").contains("script-src 'self'"));
        assertThat(page.headers().firstValue("X-Frame-Options")).hasValue("DENY");
        for (String path : new String[] {"/v1/events", "/metrics", "/"}) {
            var foreign = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + path))
                    .header("Origin", "http://evil.example").build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(foreign.statusCode()).as(path).isEqualTo(403);
        }
    }

    private void createAtPast(String name, String parent, String at) {
        button(parent, "branch").click();
        browser.findElement(By.id("create-name")).sendKeys(name);
        browser.findElement(By.cssSelector("#create-form input[name=when][value=past]")).click();
        browser.findElement(By.id("create-at")).sendKeys(at);
        browser.findElement(By.cssSelector("#create-form button[type=submit]")).click();
        waitFor(ExpectedConditions.invisibilityOfElementLocated(By.id("create-dialog")));
    }

    @Test
    void aBranchShowsItsTagsExpiryAndProtectionAndItsSchemaDiffAgainstItsParent() throws Exception {
        z.cli("branch", "migrating", "main", "--expires", "2h").ok();
        z.cli("tag", "console-tag", "migrating").ok();
        try (Connection c = z.connectProxy("migrating"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE added_here (id int)");
            s.execute("INSERT INTO added_here VALUES (1), (2)");
        }
        browser.get(z.consoleLink()); // logs in, then lands on the console
        row("migrating");
        waitFor(d -> text("migrating", ".tags").startsWith("console-tag @0/"));
        assertThat(text("migrating", ".expires")).isNotEqualTo("never");
        assertThat(text("migrating", ".protected")).isEqualTo("no");
        assertThat(text("main", ".protected")).startsWith("yes");
        assertThat(browser.findElement(By.cssSelector("[data-branch=main] button[data-action=diff]")).isEnabled()).as("main has no parent to compare with").isFalse();

        button("migrating", "diff").click();
        waitFor(ExpectedConditions.textToBePresentInElementLocated(By.id("diff-text"), "+CREATE TABLE public.added_here ("));
        assertThat(browser.findElement(By.id("diff-title")).getText()).isEqualTo("Schema: main → migrating");
        assertThat(browser.findElement(By.id("diff-summary")).getText()).startsWith("1 object differs.");
        waitFor(ExpectedConditions.textToBePresentInElementLocated(By.id("diff-data"),
                "public.added_here: 2 added, 0 removed, 0 changed (only in TO)"));
        assertThat(browser.findElement(By.id("diff-data")).getText()).contains("+ {\"id\":1}");
        browser.findElement(By.cssSelector("#diff-dialog [data-close]")).click();
        waitFor(ExpectedConditions.invisibilityOfElementLocated(By.id("diff-dialog")));

        // the history: each transaction with its tables, and a branch at the point just after it
        button("migrating", "history").click();
        waitFor(ExpectedConditions.textToBePresentInElementLocated(By.id("history-list"), "public.added_here +2"));
        assertThat(browser.findElement(By.id("history-list")).getText()).contains("public.added_here created")
                .contains("migrating begins here");
        WebElement newest = browser.findElement(By.cssSelector("#history-list > li"));
        String lsn = newest.getText().substring(0, newest.getText().indexOf(' '));
        newest.findElement(By.cssSelector("button[data-action=branch-here]")).click();
        waitFor(ExpectedConditions.visibilityOfElementLocated(By.id("create-dialog")));
        assertThat(browser.findElement(By.id("create-at")).getAttribute("value")).isEqualTo(lsn);
        assertThat(browser.findElement(By.id("create-parent")).getAttribute("value")).isEqualTo("migrating");
        browser.findElement(By.id("create-name")).sendKeys("from_history");
        browser.findElement(By.cssSelector("#create-form button[type=submit]")).click();
        waitFor(ExpectedConditions.invisibilityOfElementLocated(By.id("create-dialog")));
        try (Connection c = z.connectProxy("from_history"); Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery("SELECT count(*) FROM added_here")) {
            rs.next();
            assertThat(rs.getLong(1)).as("the state just after the newest transaction").isEqualTo(2);
        }
    }

    private static WebElement row(String branch) {
        return waitFor(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("[data-branch=" + branch + "]")));
    }

    private static WebElement button(String branch, String action) {
        return waitFor(ExpectedConditions.elementToBeClickable(
                By.cssSelector("[data-branch=" + branch + "] button[data-action=" + action + "]")));
    }

    private static String text(String branch, String selector) {
        return browser.findElement(By.cssSelector("[data-branch=" + branch + "] " + selector)).getText();
    }

    private static void assertState(String branch, String state) {
        waitFor(ExpectedConditions.attributeToBe(By.cssSelector("[data-branch=" + branch + "] .state"), "data-state", state));
    }

    private static <T> T waitFor(java.util.function.Function<org.openqa.selenium.WebDriver, T> condition) {
        return new WebDriverWait(browser, Duration.ofSeconds(60), Duration.ofMillis(50)).until(condition);
    }
}
