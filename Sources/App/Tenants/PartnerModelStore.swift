import Foundation
import PostgresNIO

/// An agency's language model (`platform.partners.llm`, its key sealed in `llm_key`), which its shops' bots follow
/// unless they have their own.
public struct PartnerModelStore: Sendable {
    public init() {}

    /// The agency's provider and sealed key; with `lock`, its row locked for the rest of the transaction.
    func read(
        partnerID: UUID, lock: Bool = false, on connection: some QueryRunner
    ) async throws -> (provider: LLMProvider?, sealedKey: String?) {
        guard
            let row = try await connection.value(
                (String?, String?).self,
                "SELECT llm::text, llm_key FROM platform.partners WHERE id = \(partnerID) \(unescaped: lock ? "FOR UPDATE" : "")")
        else { return (nil, nil) }
        return (row.0.flatMap { try? JSONDecoder().decode(LLMProvider.self, from: Data($0.utf8)) }, row.1)
    }

    /// Writes the agency's provider (nil: it gives none) and sealed key; its shops' cached bots reload (a trigger).
    func write(partnerID: UUID, provider: LLMProvider?, sealedKey: String?, on connection: some QueryRunner) async throws {
        if let provider { try LLMProvider.check(provider) }
        try await connection.execute(
            "UPDATE platform.partners SET llm = \(try provider.map(Self.json))::jsonb, llm_key = \(sealedKey) WHERE id = \(partnerID)")
    }

    /// As stored (the keys sorted, as `tenants.yml` writes it).
    static func json(_ provider: LLMProvider) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(provider), as: UTF8.self)
    }
}
