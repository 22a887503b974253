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

    /// The bot a request names (the shop's first when none): 404 for an unknown slug (one no bot could have is not
    /// looked up: PostgreSQL would refuse a NUL in it).
    func bot(_ slug: String?, _ context: WidgetRequestContext, on connection: TenantConnection) async throws -> Bot {
        let store = BotStore()
        let found: Bot?
        if let slug {
            found = Slug.isValid(slug) ? try await store.find(slug: slug, on: connection) : nil
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
        trimmed(String(String.UnicodeScalarView(text.unicodeScalars.filter { $0 == "\n" || !isControl($0) })))
    }

    /// The text without surrounding white space (Unicode's `White_Space`, as the widget's OpenAPI document spells it
    /// out: tab to carriage return, space, U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000).
    static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }

    /// U+0000–U+001F and U+007F–U+009F.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control
    }

    /// An address to answer to: one `@` with something before it, a domain with a dot that is neither its first
    /// character nor its last, and no white space or control character anywhere.
    static func isEmail(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        guard !scalars.contains(where: { $0.properties.isWhitespace || isControl($0) }), let at = scalars.firstIndex(of: "@"),
            scalars.lastIndex(of: "@") == at, at > 0
        else { return false }
        let domain = scalars[(at + 1)...]
        return domain.contains(".") && domain.first != "." && domain.last != "."
    }

    /// A number to call back: at least five digits 0–9 and no control character.
    static func isPhone(_ text: String) -> Bool {
        !text.unicodeScalars.contains(where: isControl) && text.unicodeScalars.filter { ("0"..."9").contains($0) }.count >= 5
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
