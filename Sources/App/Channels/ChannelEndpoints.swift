import Foundation

/// Where the messengers' APIs are and how fast each connection may send, read once at start-up. The base URLs are
/// configuration so that tests, benchmarks, `make run` and staging installs can point them at fakes.
public struct ChannelEndpoints: Sendable, Equatable {
    /// The Telegram Bot API (VITRINA_TELEGRAM_API_URL): calls go to `<base>/bot<token>/<method>`, files come from
    /// `<base>/file/bot<token>/<path>`.
    public var telegram = "https://api.telegram.org"
    /// The WhatsApp Cloud API with its version (VITRINA_WHATSAPP_API_URL): messages go to `<base>/<phone number id>/messages`.
    public var whatsapp = "https://graph.facebook.com/v21.0"
    /// Messages a second one Telegram bot may send (VITRINA_TELEGRAM_RATE; Telegram allows about 30).
    public var telegramPerSecond = 30.0
    /// Messages a second to one Telegram chat (VITRINA_TELEGRAM_CHAT_RATE; Telegram allows about 1).
    public var telegramChatPerSecond = 1.0
    /// Messages a second one WhatsApp number may send (VITRINA_WHATSAPP_RATE; 80 by default, up to 1,000 on request).
    public var whatsappPerSecond = 80.0
    /// Alice's answer budget (VITRINA_ALICE_BUDGET_MS): Alice waits 4.5 s for the whole round trip, network included.
    public var aliceBudget: Duration = .milliseconds(3000)

    public init() {}

    public init(environment env: [String: String]) throws {
        if let url = env["VITRINA_TELEGRAM_API_URL"], !url.isEmpty { telegram = try Self.base(url, "VITRINA_TELEGRAM_API_URL") }
        if let url = env["VITRINA_WHATSAPP_API_URL"], !url.isEmpty { whatsapp = try Self.base(url, "VITRINA_WHATSAPP_API_URL") }
        if let rate = try Self.rate(env, "VITRINA_TELEGRAM_RATE") { telegramPerSecond = rate }
        if let rate = try Self.rate(env, "VITRINA_TELEGRAM_CHAT_RATE") { telegramChatPerSecond = rate }
        if let rate = try Self.rate(env, "VITRINA_WHATSAPP_RATE") { whatsappPerSecond = rate }
        if let text = env["VITRINA_ALICE_BUDGET_MS"], !text.isEmpty {
            guard let ms = Int(text), (200...4000).contains(ms) else {
                throw ConfigurationError.invalid("VITRINA_ALICE_BUDGET_MS", text, "a number of milliseconds from 200 to 4000")
            }
            aliceBudget = .milliseconds(ms)
        }
    }

    private static func base(_ text: String, _ name: String) throws -> String {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host != nil
        else {
            throw ConfigurationError.invalid(name, text, "an http(s) URL such as https://api.telegram.org")
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    private static func rate(_ env: [String: String], _ name: String) throws -> Double? {
        guard let text = env[name], !text.isEmpty else { return nil }
        guard let rate = Double(text), rate >= 0.01, rate <= 10_000 else {
            throw ConfigurationError.invalid(name, text, "messages a second, from 0.01 to 10000")
        }
        return rate
    }
}
