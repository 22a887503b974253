import Foundation
import NIOSSL
import PostgresNIO

/// A parsed `postgres://` URL: TCP (`postgres://user:pass@host:5432/db?sslmode=...`) or a Unix socket
/// folder in libpq's style (`postgres://user@/db?host=/run/postgresql`).
public struct DatabaseURL: Sendable, Equatable {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unixSocket(path: String)
    }
    public enum TLSMode: String, Sendable { case disable, prefer, require }

    public var endpoint: Endpoint
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    public init(endpoint: Endpoint, username: String, password: String? = nil, database: String, tls: TLSMode = .disable) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
    }

    public init(_ string: String) throws {
        guard let components = URLComponents(string: string),
            let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme)
        else {
            throw ConfigurationError.message(
                "DATABASE_URL must look like postgres://user:password@host:5432/database (got something else).")
        }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let user = components.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? query["user"] ?? "postgres"
        let password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding } ?? query["password"]
        var database = String(components.percentEncodedPath.dropFirst()).removingPercentEncoding ?? ""
        if database.isEmpty { database = query["dbname"] ?? user }
        let port = components.port ?? query["port"].flatMap(Int.init) ?? 5432
        let socketFolder = query["host"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        let host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? query["host"]
        if let socketFolder {
            endpoint = .unixSocket(path: socketFolder + "/.s.PGSQL.\(port)")
        } else if let host {
            endpoint = .tcp(host: host, port: port)
        } else {
            throw ConfigurationError.message("DATABASE_URL names no host (add @host or ?host=/socket/folder).")
        }
        guard let mode = TLSMode(rawValue: query["sslmode"].map { $0 == "verify-full" ? "require" : $0 } ?? "prefer")
        else {
            throw ConfigurationError.message("DATABASE_URL sslmode must be disable, prefer or require.")
        }
        self.username = user
        self.password = password
        self.database = database
        self.tls = mode
    }

    /// The URL written back out, without the password (for logs and the README's "using ..." line).
    public var redacted: String {
        switch endpoint {
        case .tcp(let host, let port): "postgres://\(username)@\(host):\(port)/\(database)"
        case .unixSocket(let path): "postgres://\(username)@/\(database)?host=\((path as NSString).deletingLastPathComponent)"
        }
    }

    /// Configuration for a pooled client. Every connection starts with an empty `search_path`, so SQL that is not
    /// schema-qualified fails unless it runs inside `TenantDatabase.withTenant`.
    public func clientConfiguration(poolSize: Int) throws -> PostgresClient.Configuration {
        var config: PostgresClient.Configuration
        switch endpoint {
        case .tcp(let host, let port):
            config = .init(
                host: host, port: port, username: username, password: password, database: database,
                tls: try clientTLS())
        case .unixSocket(let path):
            config = .init(unixSocketPath: path, username: username, password: password, database: database)
        }
        config.options.additionalStartupParameters = [("search_path", ""), ("application_name", "vitrina")]
        config.options.maximumConnections = poolSize
        config.options.minimumConnections = 0
        config.options.connectTimeout = .seconds(5)
        return config
    }

    /// Configuration for a single dedicated connection (LISTEN, advisory locks).
    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var config: PostgresConnection.Configuration
        switch endpoint {
        case .tcp(let host, let port):
            let tls: PostgresConnection.Configuration.TLS =
                switch self.tls {
                case .disable: .disable
                case .prefer: .prefer(try NIOSSLContext(configuration: Self.tlsConfiguration()))
                case .require: .require(try NIOSSLContext(configuration: Self.tlsConfiguration()))
                }
            config = .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        case .unixSocket(let path):
            config = .init(unixSocketPath: path, username: username, password: password, database: database)
        }
        config.options.additionalStartupParameters = [("search_path", ""), ("application_name", "vitrina")]
        return config
    }

    private func clientTLS() throws -> PostgresClient.Configuration.TLS {
        switch tls {
        case .disable: .disable
        case .prefer: .prefer(Self.tlsConfiguration())
        case .require: .require(Self.tlsConfiguration())
        }
    }

    private static func tlsConfiguration() -> TLSConfiguration {
        TLSConfiguration.makeClientConfiguration()
    }
}
