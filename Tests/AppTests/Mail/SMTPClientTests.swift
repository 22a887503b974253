import Foundation
import Testing

@testable import App

@Suite("SMTP configuration")
struct SMTPConfigurationTests {
    @Test func smtpURLDefaultsToStartTLSOnPort587WithDecodedCredentials() throws {
        let config = try SMTPConfiguration(url: "smtp://mailer%40example.com:p%40ss%3Aw%2Ford@mail.example.com?from=noreply@example.com")
        #expect(config.host == "mail.example.com")
        #expect(config.port == 587)
        #expect(config.security == .startTLS)
        #expect(config.username == "mailer@example.com")
        #expect(config.password == "p@ss:w/ord")
        #expect(config.from == MailAddress("noreply@example.com"))
        #expect(config.heloName == "localhost")
        #expect(config.timeout == .seconds(30))
    }

    @Test func smtpsURLDefaultsToImplicitTLSOnPort465() throws {
        let config = try SMTPConfiguration(url: "smtps://user:secret@smtp.example.com?from=noreply@example.com&helo=vitrina.example.com")
        #expect(config.port == 465)
        #expect(config.security == .tls)
        #expect(config.heloName == "vitrina.example.com")
    }

    @Test func tlsNoneAllowsPlaintextWithAnExplicitPort() throws {
        let config = try SMTPConfiguration(url: "smtp://localhost:1025?from=dev@localhost.test&tls=none")
        #expect(config.security == .none)
        #expect(config.port == 1025)
        #expect(config.username == nil && config.password == nil)
    }

    @Test func fromAcceptsAnEncodedDisplayName() throws {
        let name = "%D0%92%D0%B8%D1%82%D1%80%D0%B8%D0%BD%D0%B0"  // Витрина
        let config = try SMTPConfiguration(url: "smtp://h.example.com?from=\(name)%20%3Cno%2Breply%40example.com%3E")
        #expect(config.from == MailAddress("no+reply@example.com", name: "Витрина"))
    }

    @Test(arguments: [
        ("http://mail.example.com?from=a@example.com", "must start with smtp:// or smtps://"),
        ("mail.example.com:587", "must start with smtp:// or smtps://"),
        ("smtp://user:pw@mail.example.com:587", "needs a from= parameter"),
        ("smtp://mail.example.com?from=", "needs a from= parameter"),
        ("smtp://mail.example.com?from=not-an-address", "from= is not an e-mail address"),
        ("smtp://mail.example.com:abc?from=a@example.com", "bad port"),
        ("smtp://mail.example.com:70000?from=a@example.com", "bad port"),
        ("smtp://mail.example.com:0?from=a@example.com", "bad port"),
        ("smtps://mail.example.com?from=a@example.com&tls=none", "tls= must be"),
        ("smtp://mail.example.com?from=a@example.com&form=x", "unknown parameter form="),
        ("smtp://user@mail.example.com?from=a@example.com", "both a user name and a password"),
        ("smtp://?from=a@example.com", "names no host"),
    ])
    func invalidURLsAreRejectedWithAClearMessage(url: String, expected: String) {
        #expect {
            try SMTPConfiguration(url: url)
        } throws: { error in
            guard let error = error as? SMTPError, case .invalidConfiguration(let message) = error else { return false }
            return message.hasPrefix("VITRINA_SMTP_URL ") && message.contains(expected) && error.isPermanent
        }
    }

    @Test func redactedURLHidesOnlyThePassword() throws {
        let config = try SMTPConfiguration(url: "smtp://mailer:s3cret%21@mail.example.com:2525?from=noreply@example.com")
        #expect(config.redactedURL == "smtp://mailer:***@mail.example.com:2525?from=noreply@example.com")
        #expect(!config.redactedURL.contains("s3cret"))
        #expect(try SMTPConfiguration(url: config.redactedURL).host == "mail.example.com")
    }
}

@Suite("Message rendering")
struct MailMessageRenderingTests {
    let from = MailAddress("noreply@vitrina.example", name: "Витрина")

    @Test func cyrillicSubjectIsEncodedInShortWordsThatDecodeBack() {
        let subject = "Приглашение в магазин «Ромашка»: подтвердите адрес электронной почты до пятницы"
        let message = MailMessage(from: from, to: [MailAddress("anna@example.com")], subject: subject, text: "Привет")
        let headers = MIMETestParser(message.rendered()).headers
        let raw = headers["Subject"] ?? ""
        let words = raw.split(separator: " ")
        #expect(words.count > 1)
        #expect(words.allSatisfy { $0.hasPrefix("=?UTF-8?B?") && $0.hasSuffix("?=") && $0.count <= 75 })
        #expect(MIMETestParser.decodeWords(raw) == subject)
        #expect(MIMETestParser.decodeWords(headers["From"] ?? "") == "Витрина <noreply@vitrina.example>")
    }

    @Test func asciiSubjectAndNamesStayReadable() {
        let message = MailMessage(
            from: MailAddress("noreply@example.com", name: "Vitrina \"Shop\""), to: [MailAddress("a@example.com")],
            subject: "Your order #42 has shipped", text: "Hi")
        let headers = MIMETestParser(message.rendered()).headers
        #expect(headers["Subject"] == "Your order #42 has shipped")
        #expect(headers["From"] == "\"Vitrina \\\"Shop\\\"\" <noreply@example.com>")
        #expect(headers["To"] == "a@example.com")
    }

    @Test func htmlMakesMultipartAlternativeWithTextFirstAndBase64PartsThatDecodeBack() throws {
        let text = "Здравствуйте, Анна!\n\nВаш заказ №42 отправлен. " + String(repeating: "Длинная строка. ", count: 20)
        let html = "<p>Здравствуйте, <b>Анна</b>!</p>"
        let message = MailMessage(from: from, to: [MailAddress("anna@example.com")], subject: "Заказ", text: text, html: html)
        let rendered = message.rendered()
        let parsed = MIMETestParser(rendered)
        let contentType = try #require(parsed.headers["Content-Type"])
        #expect(contentType.hasPrefix("multipart/alternative;"))
        let parts = parsed.parts()
        try #require(parts.count == 2)
        #expect(parts[0].headers["Content-Type"] == "text/plain; charset=utf-8")
        #expect(parts[0].headers["Content-Transfer-Encoding"] == "base64")
        #expect(parts[0].decodedBody == text.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(parts[1].headers["Content-Type"] == "text/html; charset=utf-8")
        #expect(parts[1].decodedBody == html)
        let lines = rendered.components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 78 && $0.unicodeScalars.allSatisfy(\.isASCII) })
        #expect(!rendered.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }

    @Test func textOnlyMessageIsASingleBase64Part() {
        let message = MailMessage(from: from, to: [MailAddress("a@example.com")], subject: "Тест", text: "Только текст")
        let parsed = MIMETestParser(message.rendered())
        #expect(parsed.headers["Content-Type"] == "text/plain; charset=utf-8")
        #expect(parsed.decodedBody == "Только текст")
    }

    @Test func headersCarryDateMessageIDAndMIMEVersion() throws {
        let date = try #require(ISO8601DateFormatter().date(from: "2026-11-25T21:19:49Z"))
        let message = MailMessage(
            from: MailAddress("noreply@shop.example"), to: [MailAddress("a@example.com"), MailAddress("b@example.com", name: "Bea")],
            subject: "Hi", text: "x")
        let headers = MIMETestParser(message.rendered(date: date)).headers
        #expect(headers["Date"] == "Wed, 25 Nov 2026 21:19:49 +0000")
        #expect(headers["MIME-Version"] == "1.0")
        #expect(headers["To"] == "a@example.com, \"Bea\" <b@example.com>")
        let id = try #require(headers["Message-ID"])
        #expect(id.hasPrefix("<") && id.hasSuffix("@shop.example>") && id.count > 20)
        var fixed = message
        fixed.messageID = "order-42@shop.example"
        #expect(MIMETestParser(fixed.rendered()).headers["Message-ID"] == "<order-42@shop.example>")
    }

    @Test func lineBreaksInTheSubjectCannotAddHeaders() {
        let message = MailMessage(
            from: MailAddress("noreply@example.com"), to: [MailAddress("a@example.com")], subject: "Hi\r\nBcc: victim@example.com",
            text: "x")
        let lines = message.rendered().components(separatedBy: "\r\n")
        #expect(!lines.contains { $0.hasPrefix("Bcc:") })
    }

    @Test func dotStuffingDoublesLeadingDotsAndUsesCRLF() {
        #expect(SMTPClient.dotStuffed(".first\r\nplain\r\n.hidden\r\n..two\r\n.") == "..first\r\nplain\r\n..hidden\r\n...two\r\n..\r\n")
        #expect(SMTPClient.dotStuffed("bare\n.lf\n") == "bare\r\n..lf\r\n")
    }
}

@Suite("SMTP delivery against FakeSMTPServer")
struct SMTPDeliveryTests {
    private func config(_ port: Int, credentials: String = "", security: String = "none") throws -> SMTPConfiguration {
        let query = security == "none" ? "&tls=none" : ""
        return try SMTPConfiguration(url: "smtp://\(credentials)127.0.0.1:\(port)?from=noreply@vitrina.example\(query)")
    }

    private func message(to recipients: [MailAddress] = [MailAddress("anna@example.com")]) -> MailMessage {
        MailMessage(
            from: MailAddress("noreply@vitrina.example", name: "Витрина"), to: recipients, subject: "Добро пожаловать",
            text: "Здравствуйте!\n.Строка с точкой", html: "<p>Здравствуйте!</p>")
    }

    /// Runs `body` against a started server and stops it afterwards, whether `body` throws or not.
    private func withServer(_ options: FakeSMTPServer.Options = .init(), _ body: (FakeSMTPServer, Int) async throws -> Void) async throws {
        let server = FakeSMTPServer(options)
        let port = try await server.start()
        do {
            try await body(server, port)
        } catch {
            try await server.stop()
            throw error
        }
        try await server.stop()
    }

    /// The error `send` throws, or nil when it succeeds.
    private func sendError(_ client: SMTPClient, _ message: MailMessage) async -> SMTPError? {
        do {
            try await client.send(message)
            return nil
        } catch {
            return error
        }
    }

    @Test func textAndHTMLMessageReachesTwoRecipients() async throws {
        try await withServer { server, port in
            let message = message(to: [MailAddress("anna@example.com", name: "Анна"), MailAddress("boris@example.com")])
            try await SMTPClient(configuration: try config(port)).send(message)
            let received = try #require(server.messages().first)
            #expect(server.messages().count == 1)
            #expect(received.mailFrom == "noreply@vitrina.example")
            #expect(received.rcptTo == ["anna@example.com", "boris@example.com"])
            let parsed = MIMETestParser(received.data)
            #expect(MIMETestParser.decodeWords(parsed.headers["Subject"] ?? "") == "Добро пожаловать")
            let parts = parsed.parts()
            try #require(parts.count == 2)
            #expect(parts[0].decodedBody == "Здравствуйте!\r\n.Строка с точкой")
            #expect(parts[1].decodedBody == "<p>Здравствуйте!</p>")
            #expect(server.commands().first?.hasPrefix("EHLO localhost") == true)
            #expect(server.commands().last == "QUIT")
            #expect(!server.commands().contains { $0.hasPrefix("AUTH") })
        }
    }

    @Test func credentialsGoOverPlaintextOnlyBecauseTLSNoneWasChosen() async throws {
        try await withServer(.init(username: "mailer", password: "p@ss word")) { server, port in
            try await SMTPClient(configuration: try config(port, credentials: "mailer:p%40ss%20word@")).send(message())
            #expect(server.messages().count == 1)
            let plain = Data("\0mailer\0p@ss word".utf8).base64EncodedString()
            #expect(server.commands().contains("AUTH PLAIN \(plain)"))
        }
    }

    @Test func authLoginIsUsedWhenPlainIsNotOffered() async throws {
        try await withServer(.init(username: "mailer", password: "secret", authMechanisms: ["LOGIN"])) { server, port in
            try await SMTPClient(configuration: try config(port, credentials: "mailer:secret@")).send(message())
            #expect(server.messages().count == 1)
            #expect(server.commands().contains("AUTH LOGIN"))
        }
    }

    @Test func wrongCredentialsAreAPermanentRejection() async throws {
        try await withServer(.init(username: "mailer", password: "secret")) { server, port in
            let error = await sendError(SMTPClient(configuration: try config(port, credentials: "mailer:wrong@")), message())
            guard case .rejected(let command, let code, _) = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(command == "AUTH" && code == 535)
            #expect(error?.isPermanent == true)
            #expect(server.messages().isEmpty)
            #expect(!(error?.description.contains("wrong") ?? true))
        }
    }

    @Test func missingCredentialsMeanTheServerRefusesMail() async throws {
        try await withServer(.init(username: "mailer", password: "secret")) { server, port in
            let error = await sendError(SMTPClient(configuration: try config(port)), message())
            guard case .rejected(let command, let code, _) = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(command == "MAIL FROM" && code == 530)
            #expect(error?.isPermanent == true)
        }
    }

    @Test func aRejectedRecipientFailsTheWholeMessage() async throws {
        try await withServer(.init(rejectedRecipients: ["ghost@example.com"])) { server, port in
            let recipients = [MailAddress("anna@example.com"), MailAddress("ghost@example.com")]
            let error = await sendError(SMTPClient(configuration: try config(port)), message(to: recipients))
            guard case .rejected(let command, let code, let text) = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(command == "RCPT TO" && code == 550 && text.contains("ghost@example.com"))
            #expect(error?.isPermanent == true)
            #expect(server.messages().isEmpty)
        }
    }

    @Test func startTLSRequiredButNotOfferedNeverSendsCredentials() async throws {
        try await withServer { server, port in
            let client = SMTPClient(configuration: try config(port, credentials: "mailer:secret@", security: "starttls"))
            let error = await sendError(client, message())
            #expect(error == .tlsUnavailable)
            #expect(error?.isPermanent == false)
            #expect(!server.commands().contains { $0.hasPrefix("AUTH") || $0.hasPrefix("MAIL") })
        }
    }

    @Test func startTLSOfferedButFailingNeverFallsBackToPlaintext() async throws {
        try await withServer(.init(advertisesStartTLS: true)) { server, port in
            let client = SMTPClient(configuration: try config(port, credentials: "mailer:secret@", security: "starttls"))
            let error = await sendError(client, message())
            guard case .connectionFailed = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(server.commands().prefix(2) == ["EHLO localhost", "STARTTLS"])
            #expect(!server.commands().dropFirst(2).contains { $0.hasPrefix("AUTH") || $0.hasPrefix("MAIL") || $0.hasPrefix("EHLO") })
        }
    }

    @Test func plaintextInjectedAfterStartTLSIsRefused() async throws {
        try await withServer(.init(advertisesStartTLS: true, startTLSReply: "220 2.0.0 Ready\r\n250-forged")) { server, port in
            let error = await sendError(SMTPClient(configuration: try config(port, security: "starttls")), message())
            guard case .protocolError = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(server.commands() == ["EHLO localhost", "STARTTLS"])
        }
    }

    @Test func heloIsTheFallbackWhenEHLOIsRejected() async throws {
        try await withServer(.init(rejectsEHLO: true)) { server, port in
            try await SMTPClient(configuration: try config(port)).send(message())
            #expect(server.commands().prefix(2) == ["EHLO localhost", "HELO localhost"])
            #expect(server.messages().count == 1)
        }
    }

    @Test func multiLineGreetingIsReadAsOneReply() async throws {
        try await withServer(.init(greeting: "220-fake.smtp.test ESMTP\r\n220-no UCE\r\n220 ready")) { server, port in
            try await SMTPClient(configuration: try config(port)).send(message())
            #expect(server.messages().count == 1)
        }
    }

    @Test func refusingGreetingIsARejection() async throws {
        try await withServer(.init(greeting: "554 5.7.1 no mail from you")) { _, port in
            let error = await sendError(SMTPClient(configuration: try config(port)), message())
            #expect(error == .rejected(command: "greeting", code: 554, message: "5.7.1 no mail from you"))
        }
    }

    @Test func somethingThatIsNotSMTPIsAProtocolError() async throws {
        try await withServer(.init(greeting: "HTTP/1.1 400 Bad Request")) { _, port in
            let error = await sendError(SMTPClient(configuration: try config(port)), message())
            guard case .protocolError = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(error?.isPermanent == false)
        }
    }

    @Test func aSilentServerTimesOut() async throws {
        try await withServer(.init(greeting: nil)) { _, port in
            var configuration = try config(port)
            configuration.timeout = .milliseconds(300)
            let started = ContinuousClock.now
            let error = await sendError(SMTPClient(configuration: configuration), message())
            #expect(error == .timedOut)
            #expect(error?.isPermanent == false)
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    @Test func aClosedPortIsATransientConnectionFailure() async throws {
        let server = FakeSMTPServer()
        let port = try await server.start()
        try await server.stop()
        let error = await sendError(SMTPClient(configuration: try config(port)), message())
        guard case .connectionFailed(let text) = error else { Issue.record("got \(String(describing: error))"); return }
        // Usually "connection refused" naming the address; under parallel tests another listener may take the port
        // and reset the connection instead. Either way it is a transient connection failure.
        #expect(!text.isEmpty)
        #expect(error?.isPermanent == false)
    }

    @Test func invalidAddressesAreRefusedBeforeConnecting() async throws {
        let client = SMTPClient(configuration: try config(9))
        for address in ["a@example.com>\r\nRCPT TO:<evil@example.com", "no-at-sign", "анна@example.com", "a b@example.com"] {
            let error = await sendError(client, message(to: [MailAddress(address)]))
            guard case .invalidConfiguration = error else { Issue.record("\(address): got \(String(describing: error))"); continue }
        }
        #expect(await sendError(client, message(to: [])) == .invalidConfiguration("the message has no recipients"))
    }
}

/// Just enough of a MIME reader to check what the renderer wrote: unfolded headers, base64 bodies, one level of parts.
struct MIMETestParser {
    var headers: [String: String] = [:]
    var body = ""

    init(_ text: String) {
        let split = text.range(of: "\r\n\r\n")
        let head = split.map { String(text[..<$0.lowerBound]) } ?? text
        body = split.map { String(text[$0.upperBound...]) } ?? ""
        for line in head.replacingOccurrences(of: "\r\n ", with: " ").components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[String(line[..<colon])] = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        }
    }

    var decodedBody: String? {
        Data(base64Encoded: body.replacingOccurrences(of: "\r\n", with: "")).flatMap { String(data: $0, encoding: .utf8) }
    }

    func parts() -> [MIMETestParser] {
        guard let type = headers["Content-Type"], let range = type.range(of: "boundary=\"") else { return [] }
        let boundary = type[range.upperBound...].prefix { $0 != "\"" }
        let sections = ("\r\n" + body).components(separatedBy: "\r\n--\(boundary)")
        guard sections.last?.hasPrefix("--") == true else { return [] }
        return sections.dropFirst().dropLast().map { MIMETestParser(String($0.dropFirst()) + "\r\n") }
    }

    /// Decodes `=?UTF-8?B?...?=` words; the spaces between adjacent encoded words do not count (RFC 2047).
    static func decodeWords(_ value: String) -> String {
        var result = ""
        var previousWasEncoded = false
        for token in value.split(separator: " ") {
            var decoded: String?
            if token.hasPrefix("=?UTF-8?B?"), token.hasSuffix("?="),
                let data = Data(base64Encoded: String(token.dropFirst(10).dropLast(2)))
            {
                decoded = String(data: data, encoding: .utf8)
            }
            if !result.isEmpty && !(previousWasEncoded && decoded != nil) { result += " " }
            result += decoded ?? String(token)
            previousWasEncoded = decoded != nil
        }
        return result
    }
}
