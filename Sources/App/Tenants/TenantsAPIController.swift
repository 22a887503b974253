import Foundation
import Hummingbird
import PostgresNIO

/// The partner half of the API: a partner's key manages its own shops (create, rename, suspend, resume, delete).
/// Another partner's shop answers exactly as a missing one does (404). Branding (`BrandingAPIController`), teams
/// (`MembersAPIController`) and domains (`DomainsAPIController`) have their own.
struct TenantsAPIController: Sendable {
    let database: Database
    let directory: TenantDirectory
    let provisioner: TenantProvisioner
    let invitations: Invitations
    let auditLog: AuditLog
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
    }

    struct TenantJSON: Encodable, RowDecodable {
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
        /// The shop's own monthly LLM token cap, below its plan's (`nil`: none).
        var llmTokenCap: Int? = nil

        static let columns = """
            t.slug, t.name, t.status, t.created_at,
            ARRAY(SELECT d.host FROM platform.domains d WHERE d.tenant_id = t.id ORDER BY d.host), pl.slug, pl.max_seats,
            platform.seats_used(t.id), t.llm_token_cap::int8
            """

        init(row: PostgresRow) throws {
            (slug, name, status, createdAt, domains, plan, maxSeats, seatsUsed, llmTokenCap) = try row.decode(
                (String, String, String, Date, [String], String?, Int?, Int, Int?).self)
            host = ""
        }

        /// The same, with the shop's built-in address.
        func with(baseDomain: String) -> TenantJSON {
            var json = TenantJSON(
                slug: slug, name: name, status: status, host: slug + "." + baseDomain, domains: domains, createdAt: createdAt, plan: plan,
                seatsUsed: seatsUsed, maxSeats: maxSeats)
            json.llmTokenCap = llmTokenCap
            return json
        }

        init(
            slug: String, name: String, status: String, host: String, domains: [String], createdAt: Date, plan: String?, seatsUsed: Int,
            maxSeats: Int?
        ) {
            self.slug = slug
            self.name = name
            self.status = status
            self.host = host
            self.domains = domains
            self.createdAt = createdAt
            self.plan = plan
            self.seatsUsed = seatsUsed
            self.maxSeats = maxSeats
        }

        enum CodingKeys: String, CodingKey {
            case slug, name, status, host, domains, plan
            case createdAt = "created_at"
            case seatsUsed = "seats_used"
            case maxSeats = "max_seats"
            case llmTokenCap = "llm_token_cap"
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
            try container.encode(llmTokenCap, forKey: .llmTokenCap)
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
        let body = try await APIJSON.decode(NewTenantBody.self, from: request, fields: ["name", "slug", "owner_email", "language"])
        let name = (body.name ?? "").apiText
        let email = EmailAddress.normalize((body.ownerEmail ?? "").apiText)
        let language = (body.language ?? "ru").apiText
        var (slug, errors) = Invitations.check(
            name: name, slug: (body.slug ?? "").apiText, ownerEmail: email)
        if let email = errors.removeValue(forKey: "email") { errors["owner_email"] = email }
        if !Localizer.supported.contains(language) { errors["language"] = "form_invalid_choice" }
        // Leaving the slug out makes one from the name; sending an empty one is a mistake worth saying.
        if let given = body.slug, given.apiText.isEmpty { errors["slug"] = "tenants_slug_invalid" }
        // The length as sent, as the document counts it (trimming and dropping control characters come after).
        if (body.name ?? "").databaseLength > 200 { errors["name"] = "form_too_long" }
        // A name the installation keeps for itself is taken, as another shop's would be.
        let reserved = errors["slug"] == "tenants_slug_reserved" ? errors.removeValue(forKey: "slug") : nil
        try APIError.refuse(errors, texts: texts)
        if let reserved { throw APIError.conflict(field: "slug", texts[reserved] ?? "Reserved.") }
        let snapshot = directory.snapshot
        guard let partner = snapshot.partnersByID[partnerID] else { throw APIError(.forbidden, "The key's partner is gone.") }
        do {
            try await invitations.createShop(
                Invitations.NewShop(slug: slug, name: name, ownerEmail: email, language: language), partner: partner,
                platform: snapshot.platform,
                by: Invitations.Inviter(userID: nil, name: partner.resolvedBranding.name ?? partner.name),
                origin: context.origin(host: slug + "." + snapshot.baseDomain),
                audit: context.audit("tenant.created", target: slug, details: ["owner": email]))
        } catch TenancyError.slugTaken, TenancyError.domainTaken {
            throw APIError.conflict(field: "slug", texts["tenants_slug_taken"] ?? "Taken.")
        } catch TenancyError.reservedSlug, TenancyError.domainReserved {
            throw APIError.conflict(field: "slug", texts["tenants_slug_reserved"] ?? "Reserved.")
        }
        try await directory.reload()
        var response = APIJSON.response(try await tenantJSON(slug: slug, partnerID: partnerID), status: .created)
        response.headers[.location] = "/api/v1/tenants/" + slug
        return response
    }

    /// A new name, a new own token cap (`null` clears it), or both.
    struct RenameBody: Decodable {
        var name: String?
        var llmTokenCap: Int?
        /// Whether `llm_token_cap` was in the body at all (absent: left as it is).
        var setsCap = false

        enum CodingKeys: String, CodingKey {
            case name
            case llmTokenCap = "llm_token_cap"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decodeIfPresent(String.self, forKey: .name)
            setsCap = container.contains(.llmTokenCap)
            llmTokenCap = try container.decodeIfPresent(Int.self, forKey: .llmTokenCap)
        }
    }

    @Sendable func rename(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.tenantsWrite)
        let tenant = try context.changeableTenant(in: directory.snapshot)
        let body = try await APIJSON.decode(RenameBody.self, from: request, nullable: ["llm_token_cap"], fields: ["name", "llm_token_cap"])
        let name = body.name?.apiText
        if body.name != nil || !body.setsCap, let problem = Invitations.checkName(name ?? "") {
            try APIError.refuse(["name": problem], texts: texts)
        }
        if (body.name ?? "").databaseLength > 200 { try APIError.refuse(["name": "form_too_long"], texts: texts) }
        if body.setsCap { try await checkCap(body.llmTokenCap, tenantID: tenant.id) }
        let renamed = name.map {
            context.audit("tenant.renamed", target: tenant.slug, tenantID: tenant.id, details: ["from": tenant.name, "to": $0])
        }
        try await database.transaction(logger: context.logger) { transaction in
            if let name, let renamed {
                try await transaction.execute("UPDATE platform.tenants SET name = \(name), updated_at = now() WHERE id = \(tenant.id)")
                try await auditLog.record(renamed, on: transaction)
            }
            if body.setsCap {
                let old = try await PlanStore(database: database).setTokenCap(body.llmTokenCap, tenantID: tenant.id, on: transaction)
                let entry = context.audit(
                    "tenant.token_cap_changed", target: tenant.slug, tenantID: tenant.id,
                    details: ["from": old.map(String.init) ?? "-", "to": body.llmTokenCap.map(String.init) ?? "-"])
                try await auditLog.record(entry, on: transaction)
            }
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
        let tenant =
            try action == .resume ? context.partnerTenant(in: directory.snapshot) : context.changeableTenant(in: directory.snapshot)
        let changed: Bool
        do {
            changed = try await provisioner.perform(action, slug: tenant.slug)
        } catch TenancyError.invalidTransition(_, let from, let verb) {
            throw APIError(.conflict, "The shop is \(from.rawValue): it cannot be \(verb).")
        }
        if changed {
            try await auditLog.record(context.audit("tenant." + action.pastTense, target: tenant.slug, tenantID: tenant.id))
            try await directory.reload()
        }
        return try await tenantJSON(slug: tenant.slug, partnerID: try context.partnerID())
    }

    // MARK: Helpers

    /// A shop's own token cap: a whole number from 0, not above its plan's monthly tokens (422 otherwise).
    private func checkCap(_ cap: Int?, tenantID: UUID) async throws {
        guard let cap else { return }
        let plan = try await PlanStore(database: database).limits(tenantID: tenantID)?.llmTokensPerMonth
        switch TokenCap.read(String(cap), planLimit: plan) {
        case .success: return
        case .failure(let problem):
            let message = (texts[problem.key] ?? problem.key).replacingOccurrences(of: "%n", with: String(plan ?? 0))
            throw APIError.validation([FieldProblem(field: "llm_token_cap", message: message)])
        }
    }

    private func slug(_ context: APIRequestContext) throws -> String {
        context.parameters.get("slug") ?? ""
    }

    private func tenantJSON(slug: String, partnerID: UUID) async throws -> TenantJSON {
        guard let tenant = try await tenants(partnerID: partnerID, slug: slug, limit: 1).first else { throw APIError.noSuchTenant(slug) }
        return tenant
    }

    /// The partner's shops in slug order (byte order, so cursors compare the same way everywhere).
    private func tenants(partnerID: UUID, slug: String? = nil, after: String? = nil, limit: Int) async throws -> [TenantJSON] {
        let baseDomain = directory.snapshot.baseDomain
        return try await database.all(
            TenantJSON.self,
            """
            SELECT \(unescaped: TenantJSON.columns)
            FROM platform.tenants t LEFT JOIN platform.plans pl ON pl.id = t.plan_id
            WHERE t.partner_id = \(partnerID) AND t.status <> 'purged' AND (\(slug)::text IS NULL OR t.slug = \(slug))
                AND (\(after)::text IS NULL OR t.slug COLLATE "C" > \(after))
            ORDER BY t.slug COLLATE "C" LIMIT \(limit)
            """
        ).map { $0.with(baseDomain: baseDomain) }
    }
}
