import Foundation

extension BotEngine {
    /// The answer a shopper's first message would get now, with the ranked candidates and their scores, stored nowhere
    /// (a read-only transaction): the panel's "test a question".
    public func preview(_ text: String, in tenant: TenantRecord) async throws -> BotAnswer {
        try await dryAnswer(text, in: tenant, pipeline: pipeline).0
    }
}
