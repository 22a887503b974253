import Foundation
import Hummingbird

/// A partner's branding and its shops' through the API: the stored form (snake_case fields, only those set), checked
/// by the editor's own rules (`BrandingForm`). The whole brand is replaced: a field left out is inherited.
struct BrandingAPIController: Sendable {
    let branding: BrandingStore
    let directory: TenantDirectory
    let auditLog: AuditLog
    /// The English interface texts: field problems say what the panel's form says.
    let texts: [String: String]

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("branding", use: partnerBranding)
        group.put("branding", use: savePartnerBranding)
        group.get("tenants/:slug/branding", use: tenantBranding)
        group.put("tenants/:slug/branding", use: saveTenantBranding)
    }

    @Sendable func partnerBranding(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.tenantsRead)
        return APIJSON.response(try await branding.stored(.partner(try context.partnerID())) ?? Branding())
    }

    @Sendable func savePartnerBranding(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.brandingWrite)
        let owner = BrandOwner.partner(try context.partnerID())
        let draft = try await body(request, owner: owner)
        try await save(draft, owner, audit: context.audit("branding.updated", target: draft.name ?? ""))
        return APIJSON.response(draft)
    }

    @Sendable func tenantBranding(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.tenantsRead)
        let tenant = try context.partnerTenant(in: directory.snapshot)
        return APIJSON.response(try await branding.stored(.tenant(tenant.id)) ?? Branding())
    }

    @Sendable func saveTenantBranding(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.brandingWrite)
        let tenant = try context.changeableTenant(in: directory.snapshot)
        let draft = try await body(request, owner: .tenant(tenant.id))
        try await save(
            draft, .tenant(tenant.id), audit: context.audit("branding.updated", target: draft.name ?? tenant.slug, tenantID: tenant.id))
        return APIJSON.response(draft)
    }

    private func save(_ draft: Branding, _ owner: BrandOwner, audit: AuditEntry) async throws {
        try await branding.database.transaction { transaction in
            try await branding.store(draft, owner, on: transaction)
            try await auditLog.record(audit, on: transaction)
        }
        try await directory.reload()
    }

    /// A brand as JSON, checked field by field: strings where strings go, booleans for the partner's two switches.
    private func body(_ request: Request, owner: BrandOwner) async throws -> Branding {
        let partner: Bool
        if case .partner = owner { partner = true } else { partner = false }
        let body = try await APIJSON.decode([String: JSONScalar].self, from: request, nullable: ["*"])
        let textFields = Set(BrandingForm.textFields + ["font", "default_language"] + (partner ? ["theme"] : []))
        let flags: Set<String> = partner ? ["powered_by", "allow_tenant_branding"] : []
        var values: [String: String] = [:]
        var problems: [FieldProblem] = []
        for (key, value) in body.sorted(by: { $0.key < $1.key }) {
            switch value {
            case .string(let text) where textFields.contains(key):
                values[key] = text.apiText
            case .null where textFields.contains(key) || flags.contains(key):
                continue
            case .bool where flags.contains(key):
                continue
            case _ where textFields.contains(key):
                problems.append(FieldProblem(field: key, message: "Must be a string."))
            case _ where flags.contains(key):
                problems.append(FieldProblem(field: key, message: "Must be true or false."))
            default:
                let partnerOnly = ["theme", "powered_by", "allow_tenant_branding"].contains(key)
                problems.append(
                    FieldProblem(field: key, message: partnerOnly ? "Only the partner's own branding sets this." : "Unknown field."))
            }
        }
        let (draft, errors) = BrandingForm.parse(
            values, owner: owner, poweredBy: body["powered_by"]?.bool, allowTenantBranding: body["allow_tenant_branding"]?.bool)
        problems += errors.sorted { $0.key < $1.key }.map { FieldProblem(field: $0.key, message: texts[$0.value] ?? $0.value) }
        if !problems.isEmpty { throw APIError.validation(problems) }
        return draft
    }
}

/// A JSON value that is not an object or array (a brand is a flat object).
enum JSONScalar: Decodable, Sendable {
    case string(String)
    case bool(Bool)
    case number(Double)
    case null
    case nested

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else {
            self = .nested
        }
    }

    var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
}
