import App
import Foundation

/// `serve --demo-channels`: Telegram's and WhatsApp's APIs played in the server's own process, taking any demo token,
/// so that `make run` shows the channels working end to end without an account anywhere.
struct DemoChannels {
    let telegram: FakeTelegramAPI
    let whatsapp: FakeWhatsAppAPI
    let telegramURL: String
    let whatsappURL: String

    static func start() async throws -> DemoChannels {
        let telegram = FakeTelegramAPI()
        telegram.acceptAnyToken()
        let whatsapp = FakeWhatsAppAPI()
        whatsapp.acceptAnyNumber()
        return DemoChannels(
            telegram: telegram, whatsapp: whatsapp, telegramURL: try await telegram.start(), whatsappURL: try await whatsapp.start())
    }

    /// Connects every active shop's first bot to Telegram, WhatsApp and Alice with made-up credentials (the fakes take
    /// them), unless it has a connection of that kind already.
    static func connectShops(_ services: AppServices) async throws {
        let shops = services.directory.snapshot.tenantsBySlug.values.filter { $0.status == .active }.sorted { $0.slug < $1.slug }
        for (index, tenant) in shops.enumerated() {
            let (bot, kinds) = try await services.tenants.withTenant(tenant, readOnly: true) { connection in
                (
                    try await connection.value(Int.self, "SELECT min(id)::int FROM bots"),
                    Set(try await connection.values(String.self, "SELECT kind FROM channel_connections WHERE status <> 'failed'"))
                )
            }
            guard let bot else { continue }
            let seed = DemoChannels.seed(tenant.slug)
            let requests: [ChannelConnector.Request] = [
                .init(kind: .telegram, token: "\(7_100_000_000 + index):AAE\(seed)"),
                .init(
                    kind: .whatsapp, token: "EAADemo\(seed)", appSecret: String(seed.prefix(32)),
                    phoneNumberID: "\(105_550_000_000 + index)"),
                .init(kind: .alice, skillID: DemoChannels.uuid(seed), handoffContact: "+7 495 000-00-00"),
            ]
            for request in requests where !kinds.contains(request.kind.rawValue) {
                _ = try await services.channelConnector.connect(request, botID: bot, in: tenant, logger: services.logger)
            }
        }
    }

    /// 40 hex digits that depend only on the text (FNV-1a, several rounds): made-up credentials that stay the same.
    static func seed(_ text: String) -> String {
        var out = ""
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for round in 0..<3 {
            for byte in Array(text.utf8) + [UInt8(round)] {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
            out += String(hash, radix: 16).leftPadded(16)
        }
        return String(out.prefix(40))
    }

    /// A UUID made of the seed's first 32 hex digits.
    static func uuid(_ hex: String) -> String {
        let h = Array(hex.prefix(32))
        return [h[0..<8], h[8..<12], h[12..<16], h[16..<20], h[20..<32]].map { String($0) }.joined(separator: "-")
    }

    func stop() async throws {
        try await telegram.stop()
        try await whatsapp.stop()
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
