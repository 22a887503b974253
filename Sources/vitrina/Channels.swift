import App
import ArgumentParser
import Foundation

/// `vitrina channels …`: the shops' bots' messengers.
struct ChannelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channels", abstract: "The messengers a shop's bots are connected to.", subcommands: [List.self, Simulate.self])

    /// One connection as `list` prints it.
    struct Row: Encodable {
        let bot: String
        let kind: String
        let status: String
        let detail: String?
        /// The Telegram bot's @name, the WhatsApp number (or its id), the Alice skill's id.
        let name: String?
        let webhookURL: String

        enum CodingKeys: String, CodingKey {
            case bot, kind, status, detail, name
            case webhookURL = "webhook_url"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(bot, forKey: .bot)
            try container.encode(kind, forKey: .kind)
            try container.encode(status, forKey: .status)
            try container.encode(detail, forKey: .detail)
            try container.encode(name, forKey: .name)
            try container.encode(webhookURL, forKey: .webhookURL)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List SHOP's connections: bot, kind, status (and why it failed), name and webhook URL.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The shop's slug.") var shop: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await Runtime.run {
                let rows = try await Runtime.withServices(options) { services in
                    let tenant = try await BotCommand.tenant(shop, services)
                    let connections = try await services.channelConnections.list(in: tenant)
                    let bots = try await services.tenants.withTenant(tenant, readOnly: true) { try await BotStore().list(on: $0) }
                    return connections.map { connection in
                        Row(
                            bot: bots.first { $0.id == connection.botID }?.slug ?? String(connection.botID), kind: connection.kind.rawValue,
                            status: connection.status.rawValue, detail: connection.statusDetail, name: ChannelsCommand.name(connection),
                            webhookURL: services.channelConnector.webhookURL(connection, tenant: tenant))
                    }
                }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                    say(String(decoding: try encoder.encode(rows), as: UTF8.self))
                    return
                }
                guard !rows.isEmpty else {
                    say(
                        "\(shop)'s bots are connected to no messenger yet (the panel's Channels page, the API or tenants.yml connect them)."
                    )
                    return
                }
                printTable(
                    [["BOT", "KIND", "STATUS", "NAME", "WEBHOOK"]]
                        + rows.map {
                            [$0.bot, $0.kind, $0.status + ($0.detail.map { ": " + $0 } ?? ""), $0.name ?? "-", $0.webhookURL]
                        })
            }
        }
    }

    static func name(_ connection: ChannelConnection) -> String? {
        switch connection.kind {
        case .telegram: connection.settings.username.map { "@" + $0 }
        case .whatsapp: connection.settings.displayPhoneNumber ?? connection.settings.phoneNumberID
        case .alice: connection.settings.skillID
        }
    }
}
