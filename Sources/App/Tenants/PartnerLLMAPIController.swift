import Foundation
import Hummingbird

/// The agency's language model through the API, as its console's `/admin/model` has it: `GET` and `PUT
/// /api/v1/partner/llm` (the key write-only, sealed on the partner's own row) and `POST /api/v1/partner/llm/test`,
/// which asks the provider to say OK and stores nothing (at most 10 tests a minute per key, shared with the bot API's).
struct PartnerLLMAPIController: Sendable {
    let database: Database
    let store: PartnerModelStore
    let directory: TenantDirectory
    let secrets: SecretBox
    let tester: LLMConnectionTest
    let auditLog: AuditLog

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("partner/llm", use: show)
        group.put("partner/llm", use: save)
        group.post("partner/llm/test", use: test)
    }

    @Sendable func show(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.tenantsRead)
        let partner = try partner(context)
        let (provider, sealed) = try await store.read(partnerID: partner.id, on: database)
        return APIJSON.response(PartnerLLMJSON(provider: provider, keySet: sealed != nil))
    }

    /// Sets or clears the agency's provider and key in one transaction on its row locked, with an audit entry that
    /// never holds the key.
    @Sendable func save(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.tenantsWrite)
        let partner = try partner(context)
        let body = try await APIJSON.decode(PartnerLLMChange.self, from: request, nullable: BotLLMChange.nullable)
        try body.unknown.refuseUnknown()
        let change = try body.keyChange()
        let (store, secrets, auditLog, endpoints) = (store, secrets, auditLog, tester.endpoints)
        // A new model address is looked up before the transaction (never a network wait with one open).
        if let given = body.change.provider??.baseURL?.apiText {
            let stored = try await store.read(partnerID: partner.id, on: database).provider?.baseURL
            if await endpoints.leadsInside(given, stored: stored) { throw BotModelAPI.inside("provider.base_url") }
        }
        let saved = try await database.transaction(logger: context.logger) { transaction in
            let locked = try await store.read(partnerID: partner.id, lock: true, on: transaction)
            let provider = try body.provider(over: locked.provider, endpoints: endpoints)
            let key: String?
            do {
                key = try LLMEdit.sealedKey(
                    change, stored: locked.sealedKey, provider: provider, storedProvider: locked.provider, secrets: secrets)
            } catch let error as BotSettingsError where error == LLMEdit.retypeKey {
                throw APIError.validation([PartnerLLMChange.retypeKey])
            }
            try await store.write(partnerID: partner.id, provider: provider, sealedKey: key, on: transaction)
            var details = ["provider": provider?.name ?? "none"]
            if locked.sealedKey != key { details["key"] = key == nil ? "removed" : "replaced" }
            if locked.provider != provider { details["changed"] = "provider" }
            try await auditLog.record(context.audit("partner.model_changed", target: partner.slug, details: details), on: transaction)
            return PartnerLLMJSON(provider: provider, keySet: key != nil)
        }
        return APIJSON.response(saved)
    }

    /// Asks the provider the body names (the stored one when it names none; the stored key when none is given and the
    /// kind and address stay) to say OK.
    @Sendable func test(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.tenantsWrite)
        let partner = try partner(context)
        let body =
            request.headers[.contentType] == nil
            ? PartnerLLMChange() : try await APIJSON.decode(PartnerLLMChange.self, from: request, nullable: BotLLMChange.nullable)
        try body.unknown.refuseUnknown()
        let change = try body.keyChange()
        let (stored, sealed) = try await store.read(partnerID: partner.id, on: database)
        guard let provider = try body.provider(over: stored, endpoints: tester.endpoints) else {
            throw APIError(.conflict, "The agency gives no model: there is nothing to test.")
        }
        let key: String
        do {
            key = try LLMEdit.testKey(change, stored: sealed, provider: provider, storedProvider: stored, secrets: secrets)
        } catch let error as BotSettingsError where error == LLMEdit.retypeKey {
            throw APIError.validation([PartnerLLMChange.retypeKey])
        } catch let error as SecretBoxError {
            throw APIError(.conflict, "The stored key cannot be opened (\(error.description)) Send the key again with PUT.")
        }
        if let wait = tester.take("key:" + context.key.id.uuidString) {
            throw APIError(
                .rateLimited, "At most 10 connection tests a minute per key. Retry after \(wait) s.", headers: [.retryAfter: String(wait)])
        }
        // Looked up once the test is counted: a look-up is work a key may not ask for without limit.
        if await tester.endpoints.leadsInside(provider.baseURL, stored: stored?.baseURL) { throw BotModelAPI.inside("provider.base_url") }
        let outcome = await tester.run(provider, key: key, logger: context.logger)
        return APIJSON.response(LLMConnectionTest.ResultJSON(outcome, provider: provider))
    }

    /// The key's agency (a shop's key is refused by its scopes before this).
    private func partner(_ context: APIRequestContext) throws -> PartnerRecord {
        guard let partner = directory.snapshot.partnersByID[try context.partnerID()] else {
            throw APIError(.forbidden, "The key's partner is gone.")
        }
        return partner
    }
}
