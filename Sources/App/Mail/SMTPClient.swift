import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// How the connection to the SMTP server is protected.
public enum SMTPSecurity: String, Sendable {
    case startTLS = "starttls", tls, none
}

/// Parsed from VITRINA_SMTP_URL: `smtp://user:pass@host:587` (STARTTLS required unless `?tls=none`), `smtps://user:pass@host:465`
/// (implicit TLS); `from=` is required (`noreply@example.com` or, url-encoded, `Name <noreply@example.com>`), `helo=` is optional,
/// and `tls=none` allows plaintext for development relays such as Mailpit on localhost.
public struct SMTPConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var security: SMTPSecurity
    public var username: String?
    public var password: String?
    public var from: MailAddress
    /// The name given in EHLO and HELO: `?helo=`, default `localhost`.
    public var heloName: String
    /// Bounds the whole exchange, from connecting to QUIT.
    public var timeout: Duration = .seconds(30)

    /// Parses VITRINA_SMTP_URL; the error says what is wrong with it.
    public init(url: String) throws(SMTPError) {
        func invalid(_ problem: String) -> SMTPError { .invalidConfiguration("VITRINA_SMTP_URL " + problem) }
        let lowercased = url.lowercased()
        guard lowercased.hasPrefix("smtp://") || lowercased.hasPrefix("smtps://") else {
            throw invalid("must start with smtp:// or smtps://")
        }
        guard let components = URLComponents(string: url) else {
            let authority = url.drop(while: { $0 != "/" }).dropFirst(2).prefix(while: { $0 != "/" && $0 != "?" })
            let port = authority.split(separator: "@").last?.split(separator: "]").last?.split(separator: ":").dropFirst().last
            if let port, !port.allSatisfy(\.isNumber) { throw invalid("has a bad port \(port) (expected a number from 1 to 65535)") }
            throw invalid("is not a valid URL (percent-encode special characters in the user and password, @ as %40)")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard ["from", "helo", "tls"].contains(item.name) else {
                throw invalid("has an unknown parameter \(item.name)= (known: from, helo, tls)")
            }
            query[item.name] = item.value ?? ""
        }
        var host = components.host ?? ""
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw invalid("names no host (smtp://user:password@host:587?from=noreply@example.com)") }
        let implicitTLS = components.scheme?.lowercased() == "smtps"
        let port = components.port ?? (implicitTLS ? 465 : 587)
        guard (1...65535).contains(port) else { throw invalid("has a bad port \(port) (expected a number from 1 to 65535)") }
        switch (implicitTLS, query["tls"]?.lowercased()) {
        case (true, nil), (true, "tls"): security = .tls
        case (false, nil), (false, "starttls"): security = .startTLS
        case (false, "none"): security = .none
        default: throw invalid("tls= must be starttls or none with smtp:// (smtps:// always uses TLS)")
        }
        let username = components.percentEncodedUser.flatMap { $0.removingPercentEncoding }.flatMap { $0.isEmpty ? nil : $0 }
        let password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }.flatMap { $0.isEmpty ? nil : $0 }
        guard (username == nil) == (password == nil) else { throw invalid("needs both a user name and a password, or neither") }
        guard let fromText = query["from"], !fromText.isEmpty else { throw invalid("needs a from= parameter (?from=noreply@example.com)") }
        guard let from = MailAddress(parsing: fromText) else { throw invalid("from= is not an e-mail address: \(fromText)") }
        let helo = query["helo"] ?? "localhost"
        guard !helo.isEmpty, helo.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) else {
            throw invalid("helo= must be a host name")
        }
        (self.host, self.port, self.username, self.password, self.from, self.heloName) = (host, port, username, password, from, helo)
    }

    /// The URL for logs, with the password replaced by `***`.
    public var redactedURL: String {
        func escape(_ text: String, keeping extra: String = "") -> String {
            let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~" + extra)
            return text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
        }
        var url = security == .tls ? "smtps://" : "smtp://"
        if let username { url += escape(username) + (password == nil ? "" : ":***") + "@" }
        url += (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
        url += "?from=" + escape(from.name.map { "\($0) <\(from.email)>" } ?? from.email, keeping: "@")
        if heloName != "localhost" { url += "&helo=" + escape(heloName) }
        return security == .none ? url + "&tls=none" : url
    }
}

/// Why a message was not sent.
public enum SMTPError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidConfiguration(String)
    case connectionFailed(String)
    /// The server did not offer STARTTLS while security is `.startTLS`.
    case tlsUnavailable
    /// The server answered a command with an error, e.g. 550 to RCPT TO.
    case rejected(command: String, code: Int, message: String)
    case protocolError(String)
    case timedOut

    /// Retrying cannot help: the server refused for good (5xx) or the configuration or message is wrong.
    public var isPermanent: Bool {
        switch self {
        case .invalidConfiguration: true
        case .rejected(_, let code, _): (500...599).contains(code)
        case .connectionFailed, .tlsUnavailable, .protocolError, .timedOut: false
        }
    }

    /// A sentence for logs and the outbox's last error; never contains the password.
    public var description: String {
        switch self {
        case .invalidConfiguration(let message): message
        case .connectionFailed(let message): "SMTP connection failed: \(message)"
        case .tlsUnavailable: "the SMTP server does not offer STARTTLS (use smtps:// or, for a local relay only, ?tls=none)"
        case .rejected(let command, let code, let message): "the SMTP server rejected \(command) with \(code) \(message)"
        case .protocolError(let message): "SMTP protocol error: \(message)"
        case .timedOut: "the SMTP exchange timed out"
        }
    }

    /// `.connectionFailed` for a lower-level error. BoringSSL's own text names a source file of the build; its reason
    /// code (CERTIFICATE_VERIFY_FAILED...) is the part an operator can act on.
    static func connectionFailed(_ error: any Error, at place: String = "") -> SMTPError {
        var text = "\(error)"
        if let tls = error as? NIOSSLError, case .handshakeFailed(.sslError(let stack)) = tls {
            let reasons = stack.map { "\($0)".components(separatedBy: " at ")[0].split(separator: ":").last.map(String.init) ?? "\($0)" }
            text = "TLS handshake failed: " + reasons.joined(separator: ", ")
        }
        return .connectionFailed(place.isEmpty ? text : place + ": " + text)
    }
}

/// Sends mail through one SMTP server, on a new connection per message.
public struct SMTPClient: Sendable {
    public let configuration: SMTPConfiguration
    let eventLoopGroup: any EventLoopGroup
    /// Built once, as loading the trust roots costs more than a message; nil when security is `.none`.
    let tlsContext: Result<NIOSSLContext, SMTPError>?

    /// A client that verifies the server's certificate and host name against the system's trust roots.
    public init(configuration: SMTPConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.init(configuration: configuration, eventLoopGroup: eventLoopGroup, tlsConfiguration: .makeClientConfiguration())
    }

    /// A client with its own TLS settings (tests trust a private certificate authority this way).
    init(configuration: SMTPConfiguration, eventLoopGroup: any EventLoopGroup, tlsConfiguration: TLSConfiguration) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        if configuration.security == .none {
            tlsContext = nil
        } else {
            tlsContext = Result { try NIOSSLContext(configuration: tlsConfiguration) }.mapError { .connectionFailed($0, at: "TLS setup") }
        }
    }

    /// Opens a connection, sends the message, says QUIT. Throws SMTPError.
    public func send(_ message: MailMessage) async throws(SMTPError) {
        try Self.validate(message)
        let data = Self.dotStuffed(message.rendered()) + ".\r\n"
        let tls = try tlsContext?.get()
        let deadline = NIODeadline.now() + TimeAmount(configuration.timeout)
        // Certificates of servers reached by IP address are checked against the address; SNI cannot carry one.
        let serverHostname = (try? SocketAddress(ipAddress: configuration.host, port: 0)) == nil ? configuration.host : nil
        let failure = SMTPFailure()
        let channel = try await connect(implicitTLS: configuration.security == .tls ? tls : nil, serverHostname, deadline, failure)
        let session = SMTPSession(
            channel: channel, configuration: configuration, tlsContext: tls, serverHostname: serverHostname, failure: failure)
        do {
            try await session.deliver(from: message.from.email, to: message.to.map(\.email), data: data)
        } catch {
            try? await channel.close().get()
            throw error
        }
        try? await channel.close().get()
    }

    private func connect(
        implicitTLS: NIOSSLContext?, _ serverHostname: String?, _ deadline: NIODeadline, _ failure: SMTPFailure
    ) async throws(SMTPError) -> any Channel {
        guard let bootstrap = ClientBootstrap(validatingGroup: eventLoopGroup) else {
            throw .invalidConfiguration("SMTPClient needs a SwiftNIO POSIX event loop group")
        }
        let connecting = bootstrap.connectTimeout(TimeAmount(configuration.timeout)).channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let operations = channel.pipeline.syncOperations
                if let implicitTLS { try operations.addHandler(NIOSSLClientHandler(context: implicitTLS, serverHostname: serverHostname)) }
                try operations.addHandler(SMTPClientHandler(deadline: deadline, failure: failure))
            }
        }.connect(host: configuration.host, port: configuration.port)
        let place = "\(configuration.host):\(configuration.port)"
        do {
            return try await connecting.get()
        } catch ChannelError.connectTimeout {
            throw .timedOut
        } catch let error as NIOConnectionError {
            // Its own description is a struct dump; the per-address errors say "connection refused" and the like.
            let errors = error.connectionErrors.map(\.error) + [error.dnsAError, error.dnsAAAAError].compactMap { $0 }
            throw .connectionFailed(place + ": " + errors.map { "\($0)" }.joined(separator: "; "))
        } catch {
            throw .connectionFailed(error, at: place)
        }
    }

    /// Addresses go into commands and headers verbatim, so they are checked before anything is sent.
    static func validate(_ message: MailMessage) throws(SMTPError) {
        guard message.from.isValid else {
            throw .invalidConfiguration("sender address is not valid: \(String(reflecting: message.from.email))")
        }
        guard !message.to.isEmpty else { throw .invalidConfiguration("the message has no recipients") }
        for recipient in message.to where !recipient.isValid {
            throw .invalidConfiguration("recipient address is not valid: \(String(reflecting: recipient.email))")
        }
    }

    /// The DATA payload: CRLF everywhere (a bare LF could end the data early on some servers) and every line starting
    /// with "." given another, so that no line of the message reads as the terminating ".".
    static func dotStuffed(_ text: String) -> String {
        var lines = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        return lines.map { $0.hasPrefix(".") ? "." + $0 + "\r\n" : $0 + "\r\n" }.joined()
    }
}
