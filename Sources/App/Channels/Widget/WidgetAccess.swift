import Foundation
import Hummingbird

/// What every widget handler needs: the visitor a request's token names, the bot it asks about, the shopper's text
/// cleaned, the limits and the sentences.
struct WidgetAccess: Sendable {
    let tenants: TenantDatabase
    let visitors: WidgetVisitors
    let limits: WidgetLimits
    let localizer: Localizer

    /// Runs `body` in one transaction with the visitor the request's token names (401 when none).
    func visitorTransaction<T: Sendable>(
        _ request: Request, _ context: WidgetRequestContext,
        _ body: @escaping @Sendable (WidgetVisitors.Visitor, TenantConnection) async throws -> T
    ) async throws -> T {
        guard let token = Self.bearer(request) else {
            throw APIError.unauthorized(localizer.text("widget_error_visitor", context.language), invalidToken: false)
        }
        return try await tenants.withTenant(context.tenant, logger: context.logger) { connection in
            guard let visitor = try await visitors.authenticate(token, on: connection) else {
                throw APIError.unauthorized(localizer.text("widget_error_visitor", context.language), invalidToken: true)
            }
            return try await body(visitor, connection)
        }
    }

    /// The bot a request names (the shop's first when none): 404 for an unknown slug.
    func bot(_ slug: String?, _ context: WidgetRequestContext, on connection: TenantConnection) async throws -> Bot {
        let store = BotStore()
        let found: Bot?
        if let slug {
            found = try await store.find(slug: slug, on: connection)
        } else {
            found = try await store.find(id: nil, on: connection)
        }
        guard let found else { throw APIError.notFound(localizer.text("widget_error_bot", context.language)) }
        return found
    }

    static func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return nil }
        let token = header.dropFirst(7).trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    /// Text as a shopper typed it, without control characters (new lines kept) and surrounding space.
    static func clean(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { $0 == "\n" || !$0.properties.generalCategory.isControl }))
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func isClientID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "-"):
                    true
                default: false
                }
            }
    }
}
