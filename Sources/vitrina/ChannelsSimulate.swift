import App
import ArgumentParser
import Foundation

extension ChannelsCommand {
    /// `vitrina channels simulate SHOP KIND TEXT`: plays the messenger's part against a running server, as the provider
    /// would call it (Telegram's secret header, WhatsApp's signature, Alice's request), and prints the bot's answer.
    struct Simulate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Send TEXT to SHOP's bot as a shopper on KIND (telegram, whatsapp, alice), as the provider would, and print the answer.",
            discussion: """
                The server must be running (make run). Telegram and WhatsApp answers go back through the job queue to the
                provider's API (make run's server plays them), and this command waits for the answer's delivery state;
                Alice answers in the webhook's response.
                """)
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The shop's slug.") var shop: String
        @Argument(help: "telegram, whatsapp or alice.") var kind: String
        @Argument(help: "What the shopper writes (or says).") var text: String
        @Option(help: "The running server's address.") var server = "http://127.0.0.1:8080"
        @Option(help: "The shopper's id on the channel (Telegram user id, WhatsApp number, Alice user id).") var shopper: String?
        @Option(help: "The shopper's name as the messenger knows it.") var name = "Анна Покупатель"

        func run() async throws {
            try await Runtime.run {
                guard let kind = ChannelKind(rawValue: kind) else {
                    throw CLIError.usage("KIND must be telegram, whatsapp or alice, not '\(kind)'.")
                }
                guard let base = URL(string: server), base.scheme != nil, base.host != nil else {
                    throw CLIError.usage("--server must be a URL such as http://127.0.0.1:8080.")
                }
                let (shopSlug, text, shopper, name, server) = (shop, text, shopper, name, server)
                try await Runtime.withServices(options) { services in
                    let tenant = try await BotCommand.tenant(shopSlug, services)
                    guard let connection = try await services.channelConnections.list(in: tenant).first(where: { $0.kind == kind }) else {
                        throw CLIError.usage(
                            "\(shopSlug)'s bots are not connected to \(kind.rawValue): connect it on the panel's Channels page, the API or tenants.yml."
                        )
                    }
                    let host = services.directory.snapshot.primaryHost(of: tenant)
                    let call = try ChannelSimulator.call(connection, text: text, shopper: shopper, name: name)
                    say("→ \(kind.rawValue) \(call.shopper) to \(host)\(connection.webhookPath): \(text)")
                    let outcome: ChannelSimulator.Outcome
                    do {
                        outcome = try await ChannelSimulator(client: services.http.client, tenants: services.tenants).run(
                            call, connection: connection, server: server, host: host, tenant: tenant)
                    } catch {
                        throw CLIError.failure("The server at \(server) did not answer (\(error)). Is it running (make run)?")
                    }
                    guard outcome.status == 200 else {
                        throw CLIError.failure("The webhook answered \(outcome.status): \(outcome.body.prefix(300))")
                    }
                    if kind == .alice {
                        say(ChannelSimulator.aliceLines(outcome.body).joined(separator: "\n"))
                    } else if let answer = outcome.answer {
                        say("← " + answer.text + (answer.delivery.map { " [\($0)\(answer.error.map { ": " + $0 } ?? "")]" } ?? ""))
                    } else {
                        say("← (no answer yet: people have the conversation, or no worker is running; see the shop's Inbox)")
                    }
                }
            }
        }
    }
}
