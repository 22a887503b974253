import Foundation
import PostgresNIO

/// `llm:` of partners and of tenants' bots: the provider's settings and its key, read from the environment variable
/// the file names, sealed with the installation's key. A key is written only when it changed (compared in clear), so
/// applying the file again changes nothing.
extension ManifestApplier {
    /// Every `api_key_env` resolved before anything is written; a variable that is not set refuses the whole file.
    func modelKeys(_ manifest: Manifest) throws -> [String: String] {
        let specs = manifest.partners.compactMap(\.llm) + manifest.tenants.compactMap(\.bot.llm)
        var keys: [String: String] = [:]
        var issues: [ManifestIssue] = []
        for spec in specs {
            guard let name = spec.keyEnv else { continue }
            guard let value = environment[name], !value.isEmpty else {
                issues.append(
                    ManifestIssue(
                        file: file, line: nil, path: spec.path + ".api_key_env",
                        message: "the environment variable \(name) is not set (it holds the model's key)"))
                continue
            }
            let key = value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard LLMEdit.isUsableKey(key) else {
                issues.append(
                    ManifestIssue(
                        file: file, line: nil, path: spec.path + ".api_key_env",
                        message: "the environment variable \(name) must hold 1 to 2000 printable ASCII characters without spaces"))
                continue
            }
            keys[name] = key
        }
        guard issues.isEmpty else { throw ManifestError(issues: issues) }
        return keys
    }

    /// The partner's model and key.
    func applyPartnerModel(_ spec: LLMSpec, partner slug: String, keys: [String: String], on connection: Transaction) async throws -> Bool {
        guard let provider = spec.settings.provider, let secrets else { return false }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(provider), as: UTF8.self)
        let current = try await connection.value(
            (String?, String?).self, "SELECT llm::text, llm_key FROM platform.partners WHERE slug = \(slug)")
        let key = spec.keyEnv.flatMap { keys[$0] }
        let currentProvider = current?.0.flatMap { try? JSONDecoder().decode(LLMProvider.self, from: Data($0.utf8)) }
        let currentKey = current?.1.flatMap { try? secrets.open($0) }
        guard currentProvider != provider || currentKey != key else { return false }
        try await connection.execute(
            "UPDATE platform.partners SET llm = \(json)::jsonb, llm_key = \(try key.map(secrets.seal)) WHERE slug = \(slug)")
        return true
    }

    /// The bot's own key (its settings are written with the rest of the bot).
    func applyBotModelKey(_ spec: LLMSpec, botID: Int, keys: [String: String], on tenant: TenantConnection) async throws -> Bool {
        guard spec.settings.mode == .own, let secrets else { return false }
        let key = spec.keyEnv.flatMap { keys[$0] }
        let stored = try await tenant.value(String.self, "SELECT llm_key FROM bots WHERE id = \(botID) AND llm_key IS NOT NULL")
        guard stored.flatMap({ try? secrets.open($0) }) != key else { return false }
        try await tenant.execute("UPDATE bots SET llm_key = \(try key.map(secrets.seal)) WHERE id = \(botID)")
        return true
    }
}
