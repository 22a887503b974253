import Foundation
import Hummingbird
import PostgresNIO

/// The partner half of the API: a partner's key manages its own shops (create, rename, suspend, resume, delete), their
/// branding and its own, and their teams. Another partner's shop answers exactly as a missing one does (404).
struct PartnerAPIController: Sendable {
    let identity: IdentityServices
    let directory: TenantDirectory
    let provisioner: TenantProvisioner
    let invitations: Invitations
    /// The English interface texts: field problems say what the panel's forms say.
    let texts: [String: String]

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("tenants", use: list)
        group.post("tenants", use: create)
        group.get("tenants/:slug", use: show)
        group.patch("tenants/:slug", use: rename)
        group.delete("tenants/:slug", use: delete)
        group.post("tenants/:slug/suspend", use: suspend)
        group.post("tenants/:slug/resume", use: resume)
        group.get("branding", use: partnerBranding)
        group.put("branding", use: savePartnerBranding)
        group.get("tenants/:slug/branding", use: tenantBranding)
        group.put("tenants/:slug/branding", use: saveTenantBranding)
        group.get("tenants/:slug/members", use: members)
        group.post("tenants/:slug/members", use: invite)
        group.delete("tenants/:slug/members/:user", use: removeMember)
    }

    struct TenantJSON: Encodable {
        let slug: String
        let name: String
        let status: String
        let host: String
        let domains: [String]
        let createdAt: Date
        /// The slug of the shop's plan, if it has one.
        let plan: String?
        /// Members and pending invitations, against the plan's seats (`nil`: unlimited).
        let seatsUsed: Int
        let maxSeats: Int?

        enum CodingKeys: String, CodingKey {
            case slug, name, status, host, domains, plan
            case createdAt = "created_at"
            case seatsUsed = "seats_used"
            case maxSeats = "max_seats"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(slug, forKey: .slug)
            try container.encode(name, forKey: .name)
            try container.encode(status, forKey: .status)
            try container.encode(host, forKey: .host)
            try container.encode(domains, forKey: .domains)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(plan, forKey: .plan)
            try container.encode(seatsUsed, forKey: .seatsUsed)
            try container.encode(maxSeats, forKey: .maxSeats)
        }
    }

    // MARK: Tenants

    @Sendable func list(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.tenantsRead)
        let page = try PageRequest(request)
        if let after = page.after, !Slug.isValid(after) { throw PageRequest.badCursor }
        let rows = try await tenants(partnerID: try context.partnerID(), after: page.after, limit: page.limit + 1)
        return APIJSON.response(page.page(rows, key: \.slug, item: { $0 }))
    }

    @Sendable func show(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.tenantsRead)
        return APIJSON.response(try await tenantJSON(slug: try slug(context), partnerID: try context.partnerID()))
    }

    struct NewTenantBody: Decodable {
        var name: String?
        var slug: String?
        var ownerEmail: String?
        var language: String?

        enum CodingKeys: String, CodingKey {
            case name, slug, language
            case ownerEmail = "owner_email"
        }
    }

    /// Creates a shop and invites its owner by e-mail (as the panel's "new shop" does).
    @Sendable func create(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.tenantsWrite)
        let partnerID = try context.partnerID()
        let body = try await APIJSON.decode(NewTenantBody.self, from: request)
        let name = (body.name ?? "").apiText
        let email = EmailAddress.normalize((body.ownerEmail ?? "").apiText)
        let language = (body.language ?? "ru").apiText
        var (slug, errors) = Invitations.check(
            name: name, slug: (body.slug ?? "").apiText.lowercased(), ownerEmail: email)
        if let email = errors.removeValue(forKey: "email") { errors["owner_email"] = email }
        if !Localizer.supported.contains(language) { errors["language"] = "form_invalid_choice" }
        try refuse(errors)
        guard let partner = directory.snapshot.partnersBySlug.values.first(where: { $0.id == partnerID }) else {
            throw APIError(.forbidden, "The key's partner is gone.")
        }
        do {
            try await invitations.createShop(
                Invitations.NewShop(slug: slug, name: name, ownerEmail: email, language: language), partner: partner,
                by: Invitations.Inviter(userID: nil, name: partner.resolvedBranding.name ?? partner.name),
                origin: context.origin(host: slug + "." + directory.snapshot.baseDomain),
                audit: context.audit("tenant.created", target: slug, details: ["owner": email]))
        } catch TenancyError.slugTaken, TenancyError.domainTaken, TenancyError.domainReserved {
            try refuse(["slug": "tenants_slug_taken"])
        } catch TenancyError.reservedSlug {
            try refuse(["slug": "tenants_slug_reserved"])
        }
        try await directory.reload()
        var response = APIJSON.response(try await tenantJSON(slug: slug, partnerID: partnerID), status: .created)
        response.headers[.location] = "/api/v1/tenants/" + slug
        return response
    }

    struct RenameBody: Decodable {
        var name: String?
    }

    @Sendable func rename(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.tenantsWrite)
        let tenant = try self.tenant(context)
        let body = try await APIJSON.decode(RenameBody.self, from: request)
        let name = (body.name ?? "").apiText
        if let problem = Invitations.checkName(name) { try refuse(["name": problem]) }
        try await identity.client.platformTransaction(logger: identity.logger) { connection in
            try await connection.query(
                "UPDATE platform.tenants SET name = \(name), updated_at = now() WHERE id = \(tenant.id)", logger: identity.logger)
            try await AuditLog.record(
                context.audit("tenant.renamed", target: tenant.slug, tenantID: tenant.id, details: ["from": tenant.name, "to": name]),
                on: connection, logger: identity.logger)
        }
        try await directory.reload()
        return APIJSON.response(try await tenantJSON(slug: tenant.slug, partnerID: try context.partnerID()))
    }

    /// Soft deletion, as in the panel: the shop stops answering, its data stays, and `resume` brings it back.
    @Sendable func delete(request: Request, context: APIRequestContext) async throws -> Response {
        _ = try await changeStatus(.delete, context: context)
        return APIJSON.noContent()
    }

    @Sendable func suspend(request: Request, context: APIRequestContext) async throws -> Response {
        APIJSON.response(try await changeStatus(.suspend, context: context))
    }

    @Sendable func resume(request: Request, context: APIRequestContext) async throws -> Response {
        APIJSON.response(try await changeStatus(.resume, context: context))
    }

    private func changeStatus(_ action: TenantProvisioner.Action, context: APIRequestContext) async throws -> TenantJSON {
        try context.require(.tenantsWrite)
        let tenant = try self.tenant(context)
        let changed: Bool
        do {
            changed = try await provisioner.perform(action, slug: tenant.slug)
        } catch TenancyError.invalidTransition(_, let from, let verb) {
            throw APIError(.conflict, "The shop is \(from.rawValue): it cannot be \(verb).")
        }
        if changed {
            try await identity.audit(context.audit("tenant." + action.pastTense, target: tenant.slug, tenantID: tenant.id))
            try await directory.reload()
        }
        return try await tenantJSON(slug: tenant.slug, partnerID: try context.partnerID())
    }

    // MARK: Branding

    @Sendable func partnerBranding(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.tenantsRead)
        let stored = try await BrandingController.stored(
            partnerID: try context.partnerID(), on: identity.client, logger: identity.logger)
        return APIJSON.response(stored ?? Branding())
    }

    @Sendable func savePartnerBranding(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.brandingWrite)
        let partnerID = try context.partnerID()
        let draft = try await brandingBody(request, partner: true)
        try await BrandingController.store(draft, partnerID: partnerID, on: identity.client, logger: identity.logger)
        try await identity.audit(context.audit("branding.updated", target: draft.name ?? ""))
        try await directory.reload()
        return APIJSON.response(draft)
    }

    @Sendable func tenantBranding(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.tenantsRead)
        let tenant = try self.tenant(context)
        let stored = try await BrandingController.stored(tenantID: tenant.id, on: identity.client, logger: identity.logger)
        return APIJSON.response(stored ?? Branding())
    }

    @Sendable func saveTenantBranding(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.brandingWrite)
        let tenant = try self.tenant(context)
        let draft = try await brandingBody(request, partner: false)
        try await BrandingController.store(draft, tenantID: tenant.id, on: identity.client, logger: identity.logger)
        try await identity.audit(context.audit("branding.updated", target: draft.name ?? tenant.slug, tenantID: tenant.id))
        try await directory.reload()
        return APIJSON.response(draft)
    }

    /// A brand as JSON (the stored form: snake_case fields, only those set), checked by the panel's own rules. The
    /// whole brand is replaced: a field left out is inherited.
    private func brandingBody(_ request: Request, partner: Bool) async throws -> Branding {
        let body = try await APIJSON.decode([String: JSONScalar].self, from: request)
        let textFields = Set(BrandingController.textFields + ["font", "default_language"] + (partner ? ["theme"] : []))
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
        let (draft, errors) = BrandingController.parse(
            values, partner: partner, poweredBy: body["powered_by"]?.bool, allowTenantBranding: body["allow_tenant_branding"]?.bool)
        problems += errors.sorted { $0.key < $1.key }.map { FieldProblem(field: $0.key, message: texts[$0.value] ?? $0.value) }
        if !problems.isEmpty { throw APIError.validation(problems) }
        return draft
    }

    // MARK: Members

    struct MemberJSON: Encodable {
        let userID: String
        let email: String
        let name: String
        let role: String
        let active: Bool
        let since: Date

        enum CodingKeys: String, CodingKey {
            case email, name, role, active, since
            case userID = "user_id"
        }
    }

    @Sendable func members(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.tenantsRead)
        let tenant = try self.tenant(context)
        let page = try PageRequest(request)
        let team = try await identity.users.team(tenantID: tenant.id)
        return APIJSON.response(
            page.page(all: team, key: \.email) {
                MemberJSON(
                    userID: $0.userID.uuidString.lowercased(), email: $0.email, name: $0.name, role: $0.role.rawValue, active: $0.active,
                    since: $0.since)
            })
    }

    struct InviteBody: Decodable {
        var email: String?
        var role: String?
    }

    struct InvitationJSON: Encodable {
        let email: String
        let role: String
        let status = "invited"
    }

    /// Invites someone to a shop's team by e-mail (the same invitation the shop's panel sends).
    @Sendable func invite(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.usersWrite)
        let tenant = try self.tenant(context)
        let body = try await APIJSON.decode(InviteBody.self, from: request)
        let email = EmailAddress.normalize((body.email ?? "").apiText)
        var errors: [String: String] = [:]
        if !EmailAddress.isValid(email) { errors["email"] = "form_email_invalid" }
        let role = Role(rawValue: (body.role ?? "").apiText)
        if role.map({ !Role.tenantRoles.contains($0) }) ?? true { errors["role"] = "form_invalid_choice" }
        try refuse(errors)
        guard let role else { throw APIError.validation([]) }
        if try await identity.users.team(tenantID: tenant.id).contains(where: { $0.email == email }) {
            try refuse(["email": "team_already_member"])
        }
        let partnerName = directory.snapshot.partnersBySlug.values.first { $0.id == tenant.partnerID }.flatMap { $0.resolvedBranding.name }
        do {
            try await invitations.invite(
                email, role: role, to: tenant, by: Invitations.Inviter(userID: nil, name: partnerName ?? tenant.name),
                origin: context.origin(host: OperatorController.primaryHost(tenant, baseDomain: directory.snapshot.baseDomain)),
                language: tenant.resolvedBranding.defaultLanguage ?? Localizer.fallback,
                audit: context.audit("team.invited", target: email, tenantID: tenant.id, details: ["role": role.rawValue]))
        } catch let full as SeatLimitReached {
            throw APIError(.conflict, "The shop's plan has \(full.limit) seats and all are taken by members and pending invitations.")
        }
        return APIJSON.response(InvitationJSON(email: email, role: role.rawValue), status: .accepted)
    }

    @Sendable func removeMember(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.usersWrite)
        let tenant = try self.tenant(context)
        guard let userID = context.parameters.get("user").flatMap(UUID.init(uuidString:)) else {
            throw APIError.notFound("There is no such member.")
        }
        let member = try await identity.users.team(tenantID: tenant.id).first { $0.userID == userID }
        guard let member else { throw APIError.notFound("There is no such member.") }
        do {
            let previous = try await identity.users.removeMember(userID: userID, tenantID: tenant.id, database: identity.database)
            try await identity.audit(
                context.audit("team.removed", target: member.email, tenantID: tenant.id, details: ["role": previous.rawValue]))
        } catch IdentityError.lastOwner {
            throw APIError(.conflict, "This is the shop's last owner: make someone else an owner first.")
        } catch IdentityError.notFound {
            throw APIError.notFound("There is no such member.")
        }
        return APIJSON.noContent()
    }

    // MARK: Helpers

    private func slug(_ context: APIRequestContext) throws -> String {
        context.parameters.get("slug") ?? ""
    }

    /// The shop behind `:slug` if it is this key's partner's; any other shop is "not found", word for word.
    func tenant(_ context: APIRequestContext) throws -> TenantRecord {
        let slug = try slug(context)
        guard let tenant = directory.snapshot.tenantsBySlug[slug], tenant.partnerID == (try context.partnerID()) else {
            throw Self.noSuchTenant(slug)
        }
        return tenant
    }

    static func noSuchTenant(_ slug: String) -> APIError {
        APIError.notFound("There is no shop “\(slug.prefix(60))”.")
    }

    /// Throws the fields refused (interface-text keys) as a 422 problem, if there are any.
    private func refuse(_ errors: [String: String]) throws {
        guard !errors.isEmpty else { return }
        throw APIError.validation(
            errors.sorted { $0.key < $1.key }.map { FieldProblem(field: $0.key, message: texts[$0.value] ?? $0.value) })
    }

    private func tenantJSON(slug: String, partnerID: UUID) async throws -> TenantJSON {
        guard let tenant = try await tenants(partnerID: partnerID, slug: slug, limit: 1).first else { throw Self.noSuchTenant(slug) }
        return tenant
    }

    /// The partner's shops in slug order (byte order, so cursors compare the same way everywhere).
    private func tenants(partnerID: UUID, slug: String? = nil, after: String? = nil, limit: Int) async throws -> [TenantJSON] {
        let rows = try await identity.client.query(
            """
            SELECT t.slug, t.name, t.status, t.created_at,
                ARRAY(SELECT d.host FROM platform.domains d WHERE d.tenant_id = t.id ORDER BY d.host), pl.slug, pl.max_seats,
                platform.seats_used(t.id)
            FROM platform.tenants t LEFT JOIN platform.plans pl ON pl.id = t.plan_id
            WHERE t.partner_id = \(partnerID) AND t.status <> 'purged' AND (\(slug)::text IS NULL OR t.slug = \(slug))
                AND (\(after)::text IS NULL OR t.slug COLLATE "C" > \(after))
            ORDER BY t.slug COLLATE "C" LIMIT \(limit)
            """, logger: identity.logger)
        let baseDomain = directory.snapshot.baseDomain
        var result: [TenantJSON] = []
        for try await (slug, name, status, created, domains, plan, maxSeats, seatsUsed) in rows.decode(
            (String, String, String, Date, [String], String?, Int?, Int).self)
        {
            result.append(
                TenantJSON(
                    slug: slug, name: name, status: status, host: slug + "." + baseDomain, domains: domains, createdAt: created, plan: plan,
                    seatsUsed: seatsUsed, maxSeats: maxSeats))
        }
        return result
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
