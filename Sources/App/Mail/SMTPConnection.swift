import Foundation
import NIOCore
import NIOSSL
import Synchronization

/// One SMTP conversation on a connected channel, one command and its reply at a time (no pipelining).
struct SMTPSession {
    let channel: any Channel
    let configuration: SMTPConfiguration
    let tlsContext: NIOSSLContext?
    let serverHostname: String?
    let failure: SMTPFailure

    /// Greeting, EHLO, STARTTLS, AUTH, the envelope, the message and QUIT.
    func deliver(from sender: String, to recipients: [String], data: String) async throws(SMTPError) {
        try await expect(nil, named: "greeting", 220)
        var extensions = try await hello(allowHELO: true)
        var encrypted = configuration.security == .tls
        if configuration.security == .startTLS {
            guard extensions["STARTTLS"] != nil else { throw .tlsUnavailable }
            try await expect("STARTTLS", named: "STARTTLS", 220)
            try await startTLS()
            encrypted = true
            // What the server said before TLS may have been forged, so it is asked again (RFC 3207).
            extensions = try await hello(allowHELO: false)
        }
        try await authenticate(extensions, encrypted: encrypted)
        try await expect("MAIL FROM:<\(sender)>", named: "MAIL FROM", 250)
        for recipient in recipients {
            try await expect("RCPT TO:<\(recipient)>", named: "RCPT TO", 250, 251)
        }
        try await expect("DATA", named: "DATA", 354)
        try await expect(raw: data, named: "DATA", 250)
        // The server has taken the message; a missing 221 changes nothing.
        _ = try? await exchange(ByteBuffer(string: "QUIT\r\n"))
    }

    /// EHLO's extensions (keyword to parameters, upper-cased); a server that rejects EHLO outright gets HELO instead.
    private func hello(allowHELO: Bool) async throws(SMTPError) -> [String: [String]] {
        let reply = try await exchange(ByteBuffer(string: "EHLO \(configuration.heloName)\r\n"))
        guard reply.code == 250 else {
            guard allowHELO, (500...599).contains(reply.code) else {
                throw .rejected(command: "EHLO", code: reply.code, message: reply.text)
            }
            try await expect("HELO \(configuration.heloName)", named: "HELO", 250)
            return [:]
        }
        var extensions: [String: [String]] = [:]
        for line in reply.lines.dropFirst() {
            // Old servers write `AUTH=LOGIN PLAIN`.
            let words = line.uppercased().split(whereSeparator: { $0 == " " || $0 == "=" }).map(String.init)
            if let keyword = words.first { extensions[keyword, default: []] += words.dropFirst() }
        }
        return extensions
    }

    private func authenticate(_ extensions: [String: [String]], encrypted: Bool) async throws(SMTPError) {
        guard let username = configuration.username, let password = configuration.password else { return }
        guard encrypted || configuration.security == .none else {
            throw .invalidConfiguration("refusing to send SMTP credentials over an unencrypted connection")
        }
        // A relay that advertises no AUTH does not want credentials; it will say so at MAIL or RCPT if it did.
        guard let mechanisms = extensions["AUTH"] else { return }
        func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
        if mechanisms.contains("PLAIN") {
            try await expect("AUTH PLAIN " + base64("\0\(username)\0\(password)"), named: "AUTH", 235)
        } else if mechanisms.contains("LOGIN") {
            try await expect("AUTH LOGIN", named: "AUTH", 334)
            try await expect(base64(username), named: "AUTH", 334)
            try await expect(base64(password), named: "AUTH", 235)
        } else {
            let offered = mechanisms.joined(separator: " ")
            throw .invalidConfiguration("the SMTP server offers AUTH \(offered) but only PLAIN and LOGIN are supported")
        }
    }

    /// Puts TLS under the SMTP handler; replies from now on come through it.
    private func startTLS() async throws(SMTPError) {
        guard let tlsContext else { throw .protocolError("STARTTLS without a TLS context") }
        let (channel, serverHostname) = (self.channel, self.serverHostname)
        do {
            try await channel.eventLoop.submit {
                let handler = try channel.pipeline.syncOperations.handler(type: SMTPClientHandler.self)
                // Bytes that came after the 220 were sent in plaintext; reading them as if they came over TLS would let
                // a man in the middle inject replies (the CVE-2011-0411 class of bugs).
                guard !handler.hasUnprocessedInput else {
                    throw SMTPError.protocolError("the server sent data right after 220 to STARTTLS")
                }
                let tls = try NIOSSLClientHandler(context: tlsContext, serverHostname: serverHostname)
                try channel.pipeline.syncOperations.addHandler(tls, position: .first)
            }.get()
        } catch let error as SMTPError {
            throw error
        } catch {
            throw .connectionFailed(error, at: "STARTTLS")
        }
    }

    @discardableResult
    private func expect(_ command: String?, named name: String, _ codes: Int...) async throws(SMTPError) -> SMTPReply {
        let reply = try await exchange(command.map { ByteBuffer(string: $0 + "\r\n") })
        guard codes.contains(reply.code) else { throw .rejected(command: name, code: reply.code, message: reply.text) }
        return reply
    }

    private func expect(raw data: String, named name: String, _ code: Int) async throws(SMTPError) {
        let reply = try await exchange(ByteBuffer(string: data))
        guard reply.code == code else { throw .rejected(command: name, code: reply.code, message: reply.text) }
    }

    /// Sends `bytes` (nothing for the greeting) and waits for the next reply.
    private func exchange(_ bytes: ByteBuffer?) async throws(SMTPError) -> SMTPReply {
        let reply = channel.eventLoop.makePromise(of: SMTPReply.self)
        // Once the channel has closed, writes fail before they reach the handler; the handler's reason for closing it
        // (a timeout, a malformed reply) is the better error.
        channel.writeAndFlush(SMTPRequest(bytes: bytes, reply: reply)).whenFailure { [failure] in reply.fail(failure.error ?? $0) }
        do {
            return try await reply.futureResult.get()
        } catch let error as SMTPError {
            throw error
        } catch {
            throw .connectionFailed(error)
        }
    }
}

/// The first reason the handler gave up on a connection, kept where the session can read it after the channel closed.
final class SMTPFailure: Sendable {
    private let value = Mutex<SMTPError?>(nil)

    var error: SMTPError? { value.withLock { $0 } }

    /// Records `error` unless a failure is already recorded; returns the one that stands.
    func record(_ error: SMTPError) -> SMTPError {
        value.withLock { value in
            if value == nil { value = error }
            return value ?? error
        }
    }
}

/// A server reply: its code and the text of each of its lines.
struct SMTPReply: Sendable, Equatable {
    var code: Int
    var lines: [String]
    var text: String { lines.joined(separator: " ") }
}

/// What the session writes into the pipeline: optional bytes to send, and the promise of the reply that follows.
struct SMTPRequest: Sendable {
    var bytes: ByteBuffer?
    var reply: EventLoopPromise<SMTPReply>
}

/// Splits the byte stream into (multi-line) replies and hands each to the oldest waiting request. It also owns the
/// deadline: when it passes, every waiter fails with `.timedOut` and the channel closes.
final class SMTPClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = SMTPRequest
    typealias OutboundOut = ByteBuffer

    /// RFC 5321 allows 512 octets a reply line; more than this is not a mail server.
    private static let maximumLineLength = 4096
    private static let maximumReplyLines = 256
    private let deadline: NIODeadline
    private let sharedFailure: SMTPFailure
    private var timer: Scheduled<Void>?
    private var input = ByteBuffer()
    private var pendingLines: [String] = []
    private var pendingCode = 0
    private var unclaimed = CircularBuffer<SMTPReply>()
    private var waiting = CircularBuffer<EventLoopPromise<SMTPReply>>()
    private var failure: SMTPError?

    init(deadline: NIODeadline, failure: SMTPFailure) {
        self.deadline = deadline
        self.sharedFailure = failure
    }

    /// Whether anything arrived that no request has taken yet.
    var hasUnprocessedInput: Bool { input.readableBytes > 0 || !pendingLines.isEmpty || !unclaimed.isEmpty }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startTimer(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A server that hangs up usually says why first (421), and nobody asked for that reply.
        let reason = unclaimed.last.map { ": \($0.code) \($0.text)" } ?? ""
        fail(.connectionFailed("the server closed the connection" + reason), context: context)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        fail(.connectionFailed("the connection was torn down"), context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(.connectionFailed(error), context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        input.writeBuffer(&bytes)
        do {
            while let newline = input.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                let line = input.readString(length: newline - input.readerIndex + 1) ?? ""
                try receive(line: line.trimmingCharacters(in: .newlines))
            }
            guard input.readableBytes <= Self.maximumLineLength else { throw SMTPError.protocolError("reply line too long") }
            input.discardReadBytes()
        } catch {
            fail(error as? SMTPError ?? .protocolError("\(error)"), context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.reply.fail(failure)
            promise?.fail(failure)
            return
        }
        if let early = unclaimed.popFirst() {
            // Only the greeting and a closing 421 may come unasked; anything else would shift every later reply.
            guard request.bytes == nil || early.code == 421 else {
                request.reply.fail(SMTPError.protocolError("unexpected reply \(early.code) \(early.text)"))
                fail(.protocolError("unexpected reply \(early.code) \(early.text)"), context: context)
                promise?.succeed()
                return
            }
            request.reply.succeed(early)
        } else {
            waiting.append(request.reply)
        }
        if let bytes = request.bytes {
            context.writeAndFlush(wrapOutboundOut(bytes), promise: promise)
        } else {
            promise?.succeed()
        }
    }

    private func receive(line: String) throws(SMTPError) {
        let scalars = Array(line.unicodeScalars)
        guard scalars.count >= 3, scalars[0...2].allSatisfy({ ("0"..."9").contains($0) }), let code = Int(String(line.prefix(3))),
            (200...599).contains(code), scalars.count == 3 || scalars[3] == " " || scalars[3] == "-"
        else { throw .protocolError("not an SMTP reply: \(String(reflecting: String(line.prefix(80))))") }
        guard pendingLines.isEmpty || code == pendingCode else { throw .protocolError("reply lines with different codes") }
        guard pendingLines.count < Self.maximumReplyLines else { throw .protocolError("reply too long") }
        pendingLines.append(String(line.dropFirst(4)))
        pendingCode = code
        guard scalars.count == 3 || scalars[3] == " " else { return }
        let reply = SMTPReply(code: code, lines: pendingLines)
        pendingLines = []
        if let waiter = waiting.popFirst() {
            waiter.succeed(reply)
        } else {
            guard unclaimed.count < 8 else { throw .protocolError("too many unexpected replies") }
            unclaimed.append(reply)
        }
    }

    private func startTimer(context: ChannelHandlerContext) {
        guard timer == nil else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.fail(.timedOut, context: context)
        }
    }

    /// The first failure wins: it fails every waiter, and every later request, then closes the channel.
    private func fail(_ error: SMTPError, context: ChannelHandlerContext) {
        guard failure == nil else { return }
        failure = sharedFailure.record(error)
        timer?.cancel()
        while let waiter = waiting.popFirst() { waiter.fail(failure ?? error) }
        context.close(promise: nil)
    }
}
