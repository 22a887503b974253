import App
import ArgumentParser
import Foundation

/// The `vitrina` command.
@main
struct Vitrina: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vitrina",
        abstract: "Vitrina: a white-label platform for AI shop assistants.",
        discussion: """
            Configuration comes from the environment (DATABASE_URL, VITRINA_DATA_DIR, VITRINA_BASE_DOMAIN,
            VITRINA_SECRET_KEY, VITRINA_TRUST_PROXY, ...; see README.md) and from the flags below, which win.
            Without DATABASE_URL, Vitrina runs its own PostgreSQL cluster in the data folder.
            """,
        subcommands: [
            Serve.self, Work.self, Migrate.self, Tenants.self, Users.self, BotCommand.self, ChannelsCommand.self, APIKeysCommand.self,
            Secrets.self,
        ])

    /// Parses and runs the command; a usage error exits with code 2 (ArgumentParser's own default is 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Options every command understands.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Data folder (default: $VITRINA_DATA_DIR or ./.vitrina).")
    var dataDirectory: String?

    @Option(name: .customLong("base-domain"), help: "Base domain (default: $VITRINA_BASE_DOMAIN or localhost).")
    var baseDomain: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?
}
