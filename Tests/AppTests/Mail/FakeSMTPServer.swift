import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// An SMTP server on 127.0.0.1 (ephemeral port) that speaks RFC 5321 like a real one, records what it is sent and
/// can be told to reject recipients, demand credentials or advertise STARTTLS. It cannot do TLS: a client that
/// takes up its STARTTLS offer fails the handshake, which is what tests of "never in plaintext" need.
final class FakeSMTPServer: Sendable {
    /// One message as the server took it: the envelope and the DATA after dot-unstuffing.
    struct Received: Sendable, Equatable {
        var mailFrom: String
        var rcptTo: [String]
        var data: String
    }

    /// How the server behaves.
    struct Options: Sendable {
        /// When set, MAIL needs a successful AUTH with exactly these; when nil, any AUTH succeeds.
        var username: String?
        var password: String?
        /// Answered with 550 at RCPT TO (compared case-insensitively).
        var rejectedRecipients: Set<String> = []
        var advertisesStartTLS = false
        /// The answer to STARTTLS; extra lines after the 220 play a man in the middle injecting plaintext.
        var startTLSReply = "220 2.0.0 Ready to start TLS"
        var authMechanisms = ["PLAIN", "LOGIN"]
        /// Answers EHLO with 502, as a pre-ESMTP server would.
        var rejectsEHLO = false
        /// Sent on connection, CRLF-terminated by the server; nil sends nothing (a server that hangs).
        var greeting: String? = "220 fake.smtp.test ESMTP FakeSMTPServer"
    }

    private struct State {
        var received: [Received] = []
        var commands: [String] = []
        var channel: (any Channel)?
    }

    let options: Options
    private let group: any EventLoopGroup
    private let state = Mutex(State())

    /// Creates a stopped server.
    init(_ options: Options = Options(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.options = options
        self.group = group
    }

    /// Starts listening; returns the port.
    func start() async throws -> Int {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FakeSMTPSession(server: self))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        state.withLock { $0.channel = channel }
        guard let port = channel.localAddress?.port else { throw ChannelError.unknownLocalAddress }
        return port
    }

    /// Stops listening; connections still open end with their clients.
    func stop() async throws {
        let channel = state.withLock { state in
            defer { state.channel = nil }
            return state.channel
        }
        try await channel?.close().get()
    }

    /// Messages received so far, oldest first.
    func messages() -> [Received] { state.withLock { $0.received } }

    /// Every command line received so far (AUTH continuation lines included), oldest first.
    func commands() -> [String] { state.withLock { $0.commands } }

    fileprivate func record(command: String) { state.withLock { $0.commands.append(command) } }
    fileprivate func record(_ message: Received) { state.withLock { $0.received.append(message) } }
}

/// One client connection: line splitting, the command state machine and the replies.
private final class FakeSMTPSession: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Mode { case command, data, authPlain, authLoginUser, authLoginPassword(user: String) }

    private let server: FakeSMTPServer
    private var options: FakeSMTPServer.Options { server.options }
    private var input = ByteBuffer()
    private var mode = Mode.command
    private var greeted = false
    private var authenticated = false
    private var mailFrom: String?
    private var rcptTo: [String] = []
    private var dataLines: [String] = []

    init(server: FakeSMTPServer) {
        self.server = server
    }

    func channelActive(context: ChannelHandlerContext) {
        if let greeting = options.greeting { reply(greeting, context) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        input.writeBuffer(&bytes)
        while let newline = input.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            var line = input.readString(length: newline - input.readerIndex + 1) ?? ""
            line.removeLast()  // "\r\n" is one Character, so this drops both
            if line.hasSuffix("\r") { line.removeLast() }
            handle(line, context)
        }
        input.discardReadBytes()
    }

    private func handle(_ line: String, _ context: ChannelHandlerContext) {
        switch mode {
        case .data:
            guard line != "." else { return finishData(context) }
            dataLines.append(line.hasPrefix(".") ? String(line.dropFirst()) : line)
        case .authPlain:
            server.record(command: line)
            checkPlain(line, context)
        case .authLoginUser:
            server.record(command: line)
            mode = .authLoginPassword(user: decode(line) ?? "")
            reply("334 UGFzc3dvcmQ6", context)
        case .authLoginPassword(let user):
            server.record(command: line)
            mode = .command
            finishAuth(user: user, password: decode(line) ?? "", context)
        case .command:
            server.record(command: line)
            command(line, context)
        }
    }

    private func command(_ line: String, _ context: ChannelHandlerContext) {
        let verb = line.prefix(while: { $0 != " " && $0 != ":" }).uppercased()
        let argument = line.drop(while: { $0 != " " && $0 != ":" }).dropFirst().trimmingCharacters(in: .whitespaces)
        switch verb {
        case "EHLO" where options.rejectsEHLO:
            reply("502 5.5.2 Error: command not recognized", context)
        case "EHLO":
            greeted = true
            resetTransaction()
            var lines = ["fake.smtp.test", "PIPELINING", "SIZE 10240000", "8BITMIME"]
            if options.advertisesStartTLS { lines.append("STARTTLS") }
            if !options.authMechanisms.isEmpty { lines.append("AUTH " + options.authMechanisms.joined(separator: " ")) }
            lines.append("ENHANCEDSTATUSCODES")
            let text = lines.enumerated().map { "250" + ($0.offset == lines.count - 1 ? " " : "-") + $0.element }
            reply(text.joined(separator: "\r\n"), context)
        case "HELO":
            greeted = true
            resetTransaction()
            reply("250 fake.smtp.test", context)
        case "STARTTLS" where options.advertisesStartTLS:
            reply(options.startTLSReply, context)
        case "AUTH":
            auth(argument, context)
        case "MAIL":
            guard greeted else { return reply("503 5.5.1 Error: send HELO/EHLO first", context) }
            guard authenticated || options.username == nil else { return reply("530 5.7.0 Authentication required", context) }
            guard let address = Self.address(in: argument, after: "FROM:") else {
                return reply("501 5.5.4 Syntax: MAIL FROM:<address>", context)
            }
            resetTransaction()
            mailFrom = address
            reply("250 2.1.0 Ok", context)
        case "RCPT":
            guard mailFrom != nil else { return reply("503 5.5.1 Error: need MAIL command", context) }
            guard let address = Self.address(in: argument, after: "TO:") else {
                return reply("501 5.5.4 Syntax: RCPT TO:<address>", context)
            }
            if options.rejectedRecipients.contains(where: { $0.caseInsensitiveCompare(address) == .orderedSame }) {
                return reply("550 5.1.1 <\(address)>: Recipient address rejected: User unknown", context)
            }
            rcptTo.append(address)
            reply("250 2.1.5 Ok", context)
        case "DATA":
            guard !rcptTo.isEmpty else { return reply("554 5.5.1 Error: no valid recipients", context) }
            mode = .data
            reply("354 End data with <CR><LF>.<CR><LF>", context)
        case "RSET":
            resetTransaction()
            reply("250 2.0.0 Ok", context)
        case "NOOP":
            reply("250 2.0.0 Ok", context)
        case "QUIT":
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "221 2.0.0 Bye\r\n"))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        default:
            reply("502 5.5.2 Error: command not recognized", context)
        }
    }

    private func auth(_ argument: String, _ context: ChannelHandlerContext) {
        let parts = argument.split(separator: " ", maxSplits: 1).map(String.init)
        let mechanism = parts.first?.uppercased() ?? ""
        guard greeted, !authenticated, options.authMechanisms.contains(mechanism) else {
            return reply("504 5.5.4 Unrecognized authentication type", context)
        }
        switch (mechanism, parts.count) {
        case ("PLAIN", 2): checkPlain(parts[1], context)
        case ("PLAIN", _):
            mode = .authPlain
            reply("334 ", context)
        default:
            mode = .authLoginUser
            reply("334 VXNlcm5hbWU6", context)
        }
    }

    /// AUTH PLAIN's response is base64 of `authzid \0 user \0 password`.
    private func checkPlain(_ response: String, _ context: ChannelHandlerContext) {
        mode = .command
        let fields = (decode(response) ?? "").split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 3 else { return reply("501 5.5.2 Cannot decode response", context) }
        finishAuth(user: fields[1], password: fields[2], context)
    }

    private func finishAuth(user: String, password: String, _ context: ChannelHandlerContext) {
        guard options.username == nil || (user == options.username && password == options.password) else {
            return reply("535 5.7.8 Error: authentication failed", context)
        }
        authenticated = true
        reply("235 2.7.0 Authentication successful", context)
    }

    private func finishData(_ context: ChannelHandlerContext) {
        let data = dataLines.map { $0 + "\r\n" }.joined()
        server.record(FakeSMTPServer.Received(mailFrom: mailFrom ?? "", rcptTo: rcptTo, data: data))
        resetTransaction()
        mode = .command
        reply("250 2.0.0 Ok: queued", context)
    }

    private func resetTransaction() {
        mailFrom = nil
        rcptTo = []
        dataLines = []
    }

    private func reply(_ text: String, _ context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text + "\r\n")), promise: nil)
    }

    private func decode(_ base64: String) -> String? {
        Data(base64Encoded: base64).flatMap { String(data: $0, encoding: .utf8) }
    }

    /// The address in `FROM:<a@b> BODY=8BITMIME`, case-insensitively after the keyword.
    private static func address(in argument: String, after keyword: String) -> String? {
        let full = argument.uppercased().hasPrefix(keyword) ? argument : ""
        guard let open = full.firstIndex(of: "<"), let close = full[open...].firstIndex(of: ">") else { return nil }
        return String(full[full.index(after: open)..<close])
    }
}
