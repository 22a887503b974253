import Foundation
import Hummingbird
import PostgresNIO

/// A partner's shops' custom domains: list, add (unverified, with a verification token, routing only once verified),
/// remove. Reads and writes `platform.domains` directly; the checks on a new host are the provisioner's.
struct DomainsAPIController: Sendable {
    let identity: IdentityServices
    let directory: TenantDirectory
    let provisioner: TenantProvisioner
    let partners: PartnerAPIController

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("tenants/:slug/domains", use: list)
        group.post("tenants/:slug/domains", use: add)
        group.delete("tenants/:slug/domains/:host", use: remove)
    }

    struct DomainJSON: Encodable {
        let host: String
        let verified: Bool
        let verifiedAt: Date?
        /// What to publish to prove the domain is the shop's (until it is verified).
        let verificationToken: String?

        enum CodingKeys: String, CodingKey {
            case host, verified
            case verifiedAt = "verified_at"
            case verificationToken = "verification_token"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(host, forKey: .host)
            try container.encode(verified, forKey: .verified)
            try container.encode(verifiedAt, forKey: .verifiedAt)
            try container.encode(verificationToken, forKey: .verificationToken)
        }
    }

    @Sendable func list(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.tenantsRead)
        let tenant = try partners.tenant(context)
        let page = try PageRequest(request)
        return APIJSON.response(page.page(all: try await domains(tenantID: tenant.id), key: \.host, item: { $0 }))
    }

    struct NewDomainBody: Decodable {
        var host: String?
    }

    @Sendable func add(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.domainsWrite)
        let tenant = try partners.tenant(context)
        let body = try await APIJSON.decode(NewDomainBody.self, from: request)
        let host: String
        do {
            host = try await identity.client.platformTransaction(logger: identity.logger) { connection in
                let host = try await provisioner.addDomain((body.host ?? "").apiText, tenantID: tenant.id, verified: false, on: connection)
                try await AuditLog.record(
                    context.audit("domain.added", target: host, tenantID: tenant.id), on: connection, logger: identity.logger)
                return host
            }
        } catch TenancyError.invalidDomain {
            throw APIError.validation([FieldProblem(field: "host", message: "Not a domain name, e.g. help.shop.example.")])
        } catch TenancyError.domainTaken, TenancyError.domainReserved {
            throw APIError.validation([FieldProblem(field: "host", message: "This domain is already in use.")])
        }
        guard let domain = try await domains(tenantID: tenant.id).first(where: { $0.host == host }) else {
            throw APIError.notFound("There is no such domain.")
        }
        var response = APIJSON.response(domain, status: .created)
        response.headers[.location] = "/api/v1/tenants/\(tenant.slug)/domains/\(host)"
        return response
    }

    @Sendable func remove(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.domainsWrite)
        let tenant = try partners.tenant(context)
        let host = HostName.normalize(context.parameters.get("host") ?? "") ?? ""
        let removed = try await identity.client.platformTransaction(logger: identity.logger) { connection in
            let rows = try await connection.query(
                "DELETE FROM platform.domains WHERE host = \(host) AND tenant_id = \(tenant.id) RETURNING host", logger: identity.logger)
            for try await _ in rows {
                try await AuditLog.record(
                    context.audit("domain.removed", target: host, tenantID: tenant.id), on: connection, logger: identity.logger)
                return true
            }
            return false
        }
        guard removed else { throw APIError.notFound("The shop has no domain “\(host.prefix(253))”.") }
        try await directory.reload()
        return APIJSON.noContent()
    }

    private func domains(tenantID: UUID) async throws -> [DomainJSON] {
        let rows = try await identity.client.query(
            """
            SELECT host, verified_at, CASE WHEN verified_at IS NULL THEN verification_token END
            FROM platform.domains WHERE tenant_id = \(tenantID) ORDER BY host
            """, logger: identity.logger)
        var result: [DomainJSON] = []
        for try await (host, verifiedAt, token) in rows.decode((String, Date?, String?).self) {
            result.append(DomainJSON(host: host, verified: verifiedAt != nil, verifiedAt: verifiedAt, verificationToken: token))
        }
        return result
    }
}
