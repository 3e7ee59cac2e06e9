package dev.zenith.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.zenith.ZenithException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "console", mixinStandardHelpOptions = true,
        description = {"Print a link that opens the console in a browser, for you alone: it carries a code that works once,"
                + " within two minutes, and the browser keeps a session cookie instead."})
final class ConsoleCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--open", description = "Also open the link in the default browser (xdg-open, open).")
    boolean open;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        String url = ApiClient.forRepository(Main.repoRoot(spec))
                .post("/v1/console/codes", Map.of(), new TypeReference<Map<String, String>>() { }).get("url");
        out.println(url);
        out.flush();
        if (open) {
            String opener = System.getProperty("os.name").toLowerCase().contains("mac") ? "open" : "xdg-open";
            try {
                new ProcessBuilder(opener, url).inheritIO().start();
            } catch (IOException e) {
                throw ZenithException.failed("cannot open a browser with " + opener + ": " + e.getMessage(),
                        "open the link above by hand");
            }
        }
        return 0;
    }
}
