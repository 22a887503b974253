import Foundation

/// How a bot's web chat widget behaves on a storefront: where it may be embedded, which side its launcher sits on,
/// and the pre-chat form.
public struct WidgetSettings: Sendable, Equatable {
    public enum Position: String, Sendable, Codable, CaseIterable {
        case right, left
    }

    /// Whether a pre-chat field is asked for.
    public enum Field: String, Sendable, Codable, CaseIterable {
        case off, optional, required
    }

    /// The storefronts' origins (`https://shop.example`) the widget may be embedded in and whose pages may call the
    /// widget's API; the shop's own hosts always may.
    public var allowedOrigins: [String]
    public var position: Position
    public var name: Field
    public var email: Field
    public var phone: Field

    public init(
        allowedOrigins: [String] = [], position: Position = .right, name: Field = .off, email: Field = .off, phone: Field = .off
    ) {
        self.allowedOrigins = allowedOrigins
        self.position = position
        self.name = name
        self.email = email
        self.phone = phone
    }

    /// The pre-chat form as stored (`bots.prechat`).
    var prechatJSON: String {
        #"{"name":"\#(name.rawValue)","email":"\#(email.rawValue)","phone":"\#(phone.rawValue)"}"#
    }

    init(allowedOrigins: [String], position: String, prechatJSON: String) {
        let prechat = (try? JSONSerialization.jsonObject(with: Data(prechatJSON.utf8))) as? [String: String] ?? [:]
        self.init(
            allowedOrigins: allowedOrigins, position: Position(rawValue: position) ?? .right,
            name: prechat["name"].flatMap(Field.init(rawValue:)) ?? .off, email: prechat["email"].flatMap(Field.init(rawValue:)) ?? .off,
            phone: prechat["phone"].flatMap(Field.init(rawValue:)) ?? .off)
    }

    /// An origin as a storefront's page sends it (`https://shop.example`, a port when not the scheme's default), from
    /// what a person typed or pasted (`shop.example`, `https://shop.example/catalog/?page=2`: the path goes); nil when
    /// it names no web origin.
    public static func origin(_ text: String) -> String? {
        var typed = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard !typed.isEmpty, typed.count <= 300 else { return nil }
        if !typed.contains("://") { typed = "https://" + typed }
        guard let url = URL(string: typed), let scheme = url.scheme, ["http", "https"].contains(scheme), let host = url.host,
            !host.isEmpty, url.user == nil,
            host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" || $0 == "[" || $0 == "]" })
        else { return nil }
        let defaultPort = scheme == "https" ? 443 : 80
        let port = url.port.flatMap { $0 == defaultPort ? nil : $0 }
        return scheme + "://" + host + (port.map { ":\($0)" } ?? "")
    }
}
