import Crypto
import Foundation

/// A shop's inbox settings (`inbox_settings`, one row): the widget's signed-identity secret (sealed), the waiting
/// target, auto-assignment and the retention of conversations.
public struct InboxSettings: Sendable, Equatable {
    public var targetWaitSeconds: Int
    public var autoAssign: Bool
    public var operatorCapacity: Int
    /// Conversations whose last message is older are deleted; nil keeps them.
    public var retentionDays: Int?
    /// Whether a signed-identity secret exists (its value is read only when needed: `identitySecret`).
    public var hasIdentitySecret: Bool

    public init(
        targetWaitSeconds: Int = 300, autoAssign: Bool = false, operatorCapacity: Int = 5, retentionDays: Int? = nil,
        hasIdentitySecret: Bool = false
    ) {
        self.targetWaitSeconds = targetWaitSeconds
        self.autoAssign = autoAssign
        self.operatorCapacity = operatorCapacity
        self.retentionDays = retentionDays
        self.hasIdentitySecret = hasIdentitySecret
    }
}

/// Reads and writes `inbox_settings` inside the tenant's transaction; the identity secret goes through `SecretBox`.
public struct InboxSettingsStore: Sendable {
    let secrets: SecretBox

    public init(secrets: SecretBox) {
        self.secrets = secrets
    }

    public func read(on tenant: TenantConnection) async throws -> InboxSettings {
        guard
            let row = try await tenant.value(
                (Int, Bool, Int, Int?, Bool).self,
                """
                SELECT target_wait_seconds, auto_assign, operator_capacity, retention_days, identity_secret IS NOT NULL
                FROM inbox_settings
                """)
        else { return InboxSettings() }
        return InboxSettings(
            targetWaitSeconds: row.0, autoAssign: row.1, operatorCapacity: row.2, retentionDays: row.3, hasIdentitySecret: row.4)
    }

    public func write(_ settings: InboxSettings, on tenant: TenantConnection) async throws {
        guard (30...86_400).contains(settings.targetWaitSeconds), (1...100).contains(settings.operatorCapacity),
            settings.retentionDays.map({ (1...3650).contains($0) }) ?? true
        else { throw BotSettingsError("The inbox settings are out of range.") }
        try await tenant.execute(
            """
            UPDATE inbox_settings SET target_wait_seconds = \(settings.targetWaitSeconds), auto_assign = \(settings.autoAssign),
                operator_capacity = \(settings.operatorCapacity), retention_days = \(settings.retentionDays), updated_at = now()
            """)
    }

    /// The widget's signed-identity secret in clear, or nil when the shop has none.
    public func identitySecret(on tenant: TenantConnection) async throws -> String? {
        guard
            let sealed = try await tenant.value(
                String.self, "SELECT identity_secret FROM inbox_settings WHERE identity_secret IS NOT NULL")
        else { return nil }
        return try secrets.open(sealed)
    }

    /// A new random secret (the old one stops verifying at once); returns it in clear, to show once in full.
    @discardableResult
    public func rotateIdentitySecret(on tenant: TenantConnection) async throws -> String {
        let secret = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        try await tenant.execute("UPDATE inbox_settings SET identity_secret = \(try secrets.seal(secret)), updated_at = now()")
        return secret
    }
}
