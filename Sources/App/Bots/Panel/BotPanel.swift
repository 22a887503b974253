import Foundation
import Hummingbird

/// What the bot's panel pages share.
enum BotPanel {
    static func tenant(_ context: PanelRequestContext) throws -> TenantRecord {
        guard let tenant = context.panel.tenant else { throw HTTPError(.notFound) }
        return tenant
    }

    /// A template's or a rule's name from the address (`:name`).
    static func name(_ context: PanelRequestContext) throws -> String {
        guard let name = context.parameters.get("name"), Slug.isValid(name) else { throw HTTPError(.notFound) }
        return name
    }

    /// A score as the explanations show it (`0.734`, `0,734` in Russian).
    static func score(_ value: Double?, language: String) -> String? {
        guard let value else { return nil }
        let text = String(format: "%.3f", value)
        return language == "ru" ? text.replacingOccurrences(of: ".", with: ",") : text
    }
}
