import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

extension WebhookFuzzTests {
    /// Correctly signed, well-formed updates whose values are valid JSON but hostile to the database: a NUL character
    /// (`\u0000`, which PostgreSQL's text and jsonb cannot hold), ids and senders longer than the columns allow, text
    /// whose characters are many code points each. Each may be stored (200) or refused (4xx), never a 5xx, which the
    /// provider would resend for a day and which would hold up the chat's later updates behind it.
    static func hostile(_ target: FuzzTarget, env: TestEnvironment, tenant: TenantRecord) async throws {
        var random = SplitMix64(seed: FuzzSettings.fromEnvironment().seed &+ 7)
        let nul = FuzzJSON.string("Где\u{0}мой заказ?")
        func zalgo(_ count: Int) -> FuzzJSON { .string(String(repeating: "e\u{301}\u{302}\u{303}", count: count)) }
        let long = String(repeating: "7", count: 201 + random.int(100))
        var cases: [(String, FuzzJSON)] = []
        func add(_ label: String, _ path: String, _ value: FuzzJSON) {
            var genuine = target.genuine(&random)
            // A Telegram message's fields need a message (the genuine update is sometimes a button press).
            while path.hasPrefix("message."), genuine.textPath != "message.text" { genuine = target.genuine(&random) }
            cases.append((label, genuine.json.replacing(path.replacingOccurrences(of: "$text", with: genuine.textPath), with: value)))
        }
        add("a NUL in the text", "$text", nul)
        add("3,000 letters of 4 code points each", "$text", zalgo(3000))
        switch target.provider {
        case .telegram:
            add("a NUL in the sender's name", "message.from.first_name", nul)
            add("a name of 100 letters of 4 code points each", "message.from.first_name", zalgo(100))
            add("a NUL in a document's name", "message.document", .object([("file_id", .string("BQAC")), ("file_name", nul)]))
            add("a NUL in a file id", "message.photo", .array([.object([("file_id", nul), ("width", .int(90)), ("height", .int(90))])]))
        case .whatsapp:
            let v = "entry.0.changes.0.value"
            add("a NUL in the profile name", v + ".contacts.0.profile.name", nul)
            add("a name of 100 letters of 4 code points each", v + ".contacts.0.profile.name", zalgo(100))
            add("a NUL in the message id", v + ".messages.0.id", nul)
            add("a message id of 201 or more", v + ".messages.0.id", .string("wamid." + long))
            add("a sender of 201 or more digits", v + ".messages.0.from", .string(long))
            let status = FuzzJSON.object([("id", nul), ("status", .string("failed")), ("recipient_id", .string("7916"))])
            add("a NUL in a status's message id", v + ".statuses", .array([status]))
        case .alice:
            add("a NUL in the command", "request.command", nul)
            add("a NUL in the user id", "session.user.user_id", nul)
            add("a NUL in the session id", "session.session_id", nul)
        }
        let requests = cases
        try await env.withApp { client in
            var statuses: [(String, Int)] = []
            for (label, json) in requests {
                let body = json.bytes
                let response = try await client.execute(
                    uri: target.path, method: .post, headers: target.headers(signing: body), body: ByteBuffer(bytes: body))
                statuses.append((label, Int(response.status.code)))
                #expect(response.status.code < 500, "\(target.kind.rawValue): \(label) → \(response.status.code)")
                if case .alice = target.provider {
                    // Alice's controller answers a failed turn with an apology (200): that is a failure too.
                    #expect(!String(buffer: response.body).contains("не получается ответить"), "\(label)")
                }
            }
            print("Webhook hostile values, \(target.kind.rawValue): " + statuses.map { "\($0.0) → \($0.1)" }.joined(separator: "; "))
            // The NUL became U+FFFD and the message was kept.
            let kept = try await env.services.tenants.withTenant(tenant) { connection in
                try await connection.value(
                    Int.self, "SELECT count(*)::int FROM messages WHERE author = 'shopper' AND text = \("Где\u{FFFD}мой заказ?")")
            }
            #expect(kept == 1)
        }
    }

    /// A NUL's escape becomes U+FFFD's in place; an escaped backslash followed by the letters "u0000" stays as it is.
    @Test func aNULsEscapeBecomesTheReplacementCharacters() throws {
        func replaced(_ json: String) -> String { String(decoding: WebhookJSON.replacingNUL(Array(json.utf8)), as: UTF8.self) }
        #expect(replaced(#"{"text":"a\u0000b"}"#) == #"{"text":"a\ufffdb"}"#)
        #expect(replaced(#"{"text":"a\\u0000b"}"#) == #"{"text":"a\\u0000b"}"#)
        #expect(replaced(#"{"text":"\\\u0000\u0000"}"#) == #"{"text":"\\\ufffd\ufffd"}"#)
        #expect(replaced(#"\u000"#) == #"\u000"#)
        let decoded = try JSONDecoder().decode([String: String].self, from: Data(replaced(#"{"text":"a\u0000b"}"#).utf8))
        #expect(decoded["text"] == "a\u{FFFD}b")
    }

    @Test func telegramHostileValues() async throws {
        try await Self.withTarget(.telegram) { try await Self.hostile($0, env: $1, tenant: $2) }
    }

    @Test func whatsAppHostileValues() async throws {
        try await Self.withTarget(.whatsapp) { try await Self.hostile($0, env: $1, tenant: $2) }
    }

    @Test func aliceHostileValues() async throws {
        try await Self.withTarget(.alice) { try await Self.hostile($0, env: $1, tenant: $2) }
    }
}
