import Foundation
import Hummingbird
import PostgresNIO

/// A partner's shops' custom domains: list, add (unverified, with the DNS records to create), check now, remove.
/// The same `DomainStore` as the panels', so the rules (and the checks every few minutes) are one.
struct DomainsAPIController: Sendable {
    let domains: DomainStore
    let directory: TenantDirectory
    let auditLog: AuditLog
    /// English interface texts, for the messages of refused domains.
    let texts: [String: String]

    var cnameTarget: String { domains.cnameTarget }

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("tenants/:slug/domains", use: list)
        group.post("tenants/:slug/domains", use: add)
        group.delete("tenants/:slug/domains/:host", use: remove)
        group.post("tenants/:slug/domains/:host/verify", use: verify)
    }

    struct DomainJSON: Encodable {
        let host: String
        let verified: Bool
        let verifiedAt: Date?
        let isPrimary: Bool
        /// What to publish to prove the domain is the shop's (until it is verified).
        let verificationToken: String?
        /// The DNS records to create (until it is verified).
        let records: [DNSRecord]
        let checkedAt: Date?
        let checkResult: String?

        enum CodingKeys: String, CodingKey {
            case host, verified, records
            case verifiedAt = "verified_at"
            case isPrimary = "is_primary"
            case verificationToken = "verification_token"
            case checkedAt = "checked_at"
            case checkResult = "check_result"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(host, forKey: .host)
            try container.encode(verified, forKey: .verified)
            try container.encode(verifiedAt, forKey: .verifiedAt)
            try container.encode(isPrimary, forKey: .isPrimary)
            try container.encode(verificationToken, forKey: .verificationToken)
            try container.encode(records, forKey: .records)
            try container.encode(checkedAt, forKey: .checkedAt)
            try container.encode(checkResult, forKey: .checkResult)
        }
    }

    @Sendable func list(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.tenantsRead)
        let tenant = try context.partnerTenant(in: directory.snapshot)
        let page = try PageRequest(request)
        let all = try await domains.list(.tenant(tenant.id)).sorted { $0.host < $1.host }.map { json($0, tenant: tenant) }
        return APIJSON.response(page.page(all: all, key: \.host, item: { $0 }))
    }

    struct NewDomainBody: Decodable {
        var host: String?
    }

    @Sendable func add(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.domainsWrite)
        let tenant = try context.changeableTenant(in: directory.snapshot)
        let body = try await APIJSON.decode(NewDomainBody.self, from: request, fields: ["host"])
        let result = try await domains.database.transaction(logger: context.logger) { transaction in
            let result = try await domains.add((body.host ?? "").apiText, owner: .tenant(tenant.id), on: transaction)
            if case .success(let domain) = result {
                try await auditLog.record(context.audit("domain.added", target: domain.host, tenantID: tenant.id), on: transaction)
            }
            return result
        }
        switch result {
        case .success(let domain):
            var response = APIJSON.response(json(domain, tenant: tenant), status: .created)
            response.headers[.location] = "/api/v1/tenants/\(tenant.slug)/domains/\(domain.host)"
            return response
        case .failure(.limit):
            throw APIError(.conflict, texts[DomainError.limit.rawValue] ?? "Too many domains.")
        // A host another shop or the installation itself has: taken, not malformed.
        case .failure(let error) where error == .taken || error == .reserved:
            throw APIError.conflict(field: "host", texts[error.rawValue] ?? "Another shop has this domain.")
        case .failure(let error):
            throw APIError.validation([FieldProblem(field: "host", message: texts[error.rawValue] ?? error.rawValue)])
        }
    }

    @Sendable func verify(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.domainsWrite)
        let tenant = try context.changeableTenant(in: directory.snapshot)
        let host = HostName.normalize(context.parameters.get("host") ?? "") ?? ""
        guard case .success(let result) = try await domains.verify(host, owner: .tenant(tenant.id)),
            let domain = try await domains.find(host, owner: .tenant(tenant.id))
        else { throw APIError.notFound("The shop has no domain “\(host.prefix(253))”.") }
        if result.verified, domain.verifiedBy != "operator" {
            try await auditLog.record(
                context.audit("domain.verified", target: host, tenantID: tenant.id, details: ["by": result.method ?? ""]))
        }
        return APIJSON.response(json(domain, tenant: tenant))
    }

    @Sendable func remove(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.domainsWrite)
        // Allowed on a deleted shop too: letting go of a host or a person is how they move on (not a change to undo).
        let tenant = try context.partnerTenant(in: directory.snapshot)
        let host = HostName.normalize(context.parameters.get("host") ?? "") ?? ""
        let removed = try await domains.database.transaction(logger: context.logger) { transaction in
            let removed = try await domains.remove(host, owner: .tenant(tenant.id), on: transaction)
            if removed {
                try await auditLog.record(context.audit("domain.removed", target: host, tenantID: tenant.id), on: transaction)
            }
            return removed
        }
        guard removed else { throw APIError.notFound("The shop has no domain “\(host.prefix(253))”.") }
        try await directory.reload()
        return APIJSON.noContent()
    }

    private func json(_ domain: DomainRecord, tenant: TenantRecord) -> DomainJSON {
        DomainJSON(
            host: domain.host, verified: domain.isVerified, verifiedAt: domain.verifiedAt, isPrimary: domain.isPrimary,
            verificationToken: domain.isVerified ? nil : domain.token,
            records: domain.records(cnameTarget: cnameTarget, poweredBy: tenant.resolvedBranding.poweredBy ?? false),
            checkedAt: domain.checkedAt, checkResult: domain.checkResult)
    }
}
