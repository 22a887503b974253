import Foundation
import Yams

/// Reads a manifest strictly: unknown keys, wrong types, bad slugs, domains, colours, duplicate names and unknown
/// partners are all reported (every one, with its path and line) before anything is written.
public struct ManifestParser {
    let file: String
    let baseDomain: String
    var issues: [ManifestIssue] = []

    public init(file: String, baseDomain: String) {
        self.file = file
        self.baseDomain = baseDomain
    }

    /// Parses the file at `path`.
    public static func load(path: String, baseDomain: String) throws -> Manifest {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ManifestError(issues: [ManifestIssue(file: path, line: nil, path: "", message: "cannot read the file")])
        }
        var parser = ManifestParser(file: path, baseDomain: baseDomain)
        return try parser.parse(text)
    }

    public mutating func parse(_ text: String) throws -> Manifest {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ManifestError(issues: [ManifestIssue(file: file, line: nil, path: "", message: "not valid YAML: \(error)")])
        }
        var manifest = Manifest()
        guard let root, let mapping = mapping(root, path: "", allowed: ["platform", "partners", "tenants", "admins"]) else {
            if root == nil { report(nil, "", "the file is empty") }
            throw ManifestError(issues: issues)
        }
        if let partners = mapping["partners"], let items = sequence(partners, path: "partners") {
            for (index, node) in items.enumerated() {
                if let spec = partner(node, path: "partners[\(index)]") { manifest.partners.append(spec) }
            }
        }
        if let tenants = mapping["tenants"], let items = sequence(tenants, path: "tenants") {
            for (index, node) in items.enumerated() {
                if let spec = tenant(node, path: "tenants[\(index)]") { manifest.tenants.append(spec) }
            }
        }
        if let admins = mapping["admins"] { manifest.admins = adminList(admins, path: "admins", scope: .platform) }
        if let platform = mapping["platform"], let map = self.mapping(platform, path: "platform", allowed: ["branding"]) {
            manifest.platform = PlatformSpec(
                path: "platform",
                branding: map["branding"].map { brandingField($0, path: "platform.branding", level: .platform) } ?? Branding())
        }
        crossCheck(manifest, root: mapping)
        guard issues.isEmpty else { throw ManifestError(issues: issues) }
        return manifest
    }

    // MARK: Entities

    /// `admins:` — `{email, role, password_env}` items. Roles by scope: the platform's is `platform_admin` (the
    /// default); a partner's `owner` or `admin`; a tenant's `owner`, `admin`, `operator` or `viewer`.
    mutating func adminList(_ node: Node, path: String, scope: SiteKind) -> [AdminSpec] {
        guard let items = sequence(node, path: path) else { return [] }
        var admins: [AdminSpec] = []
        var seen: Set<String> = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            guard let map = mapping(item, path: itemPath, allowed: ["email", "name", "role", "password_env"]) else { continue }
            guard let rawEmail = requiredString(map, "email", path: itemPath, node: item, maxLength: 254) else { continue }
            let email = EmailAddress.normalize(rawEmail)
            guard EmailAddress.isValid(email) else {
                report(map["email"], itemPath + ".email", "'\(rawEmail)' is not an e-mail address")
                continue
            }
            if !seen.insert(email).inserted { report(map["email"], itemPath + ".email", "\(email) is listed twice here") }
            let roleText = map["role"].flatMap { string($0, path: itemPath + ".role") }
            let role: Role?
            switch scope {
            case .platform:
                role = roleText == nil || roleText == "platform_admin" || roleText == "admin" ? .platformAdmin : nil
            case .partner:
                role = roleText.flatMap {
                    ["owner": Role.partnerOwner, "admin": .partnerAdmin, "partner_owner": .partnerOwner, "partner_admin": .partnerAdmin][$0]
                }
            case .tenant:
                role = roleText.flatMap { Role(rawValue: $0) }.flatMap { Role.tenantRoles.contains($0) ? $0 : nil }
            }
            guard let role else {
                let allowed =
                    scope == .platform ? "platform_admin" : scope == .partner ? "owner or admin" : "owner, admin, operator or viewer"
                report(
                    map["role"] ?? item, itemPath + ".role",
                    roleText.map { "'\($0)' is not a role here: use \(allowed)" } ?? "a role is required: \(allowed)")
                continue
            }
            var passwordEnv: String?
            if let envNode = map["password_env"], let name = string(envNode, path: itemPath + ".password_env") {
                if name.range(of: "^[A-Z_][A-Z0-9_]{0,63}$", options: .regularExpression) == nil {
                    report(envNode, itemPath + ".password_env", "'\(name)' is not an environment variable name (A–Z, 0–9, _)")
                } else {
                    passwordEnv = name
                }
            }
            let name = map["name"].flatMap { string($0, path: itemPath + ".name") } ?? ""
            if name.count > 200 { report(map["name"], itemPath + ".name", "is longer than 200 characters") }
            admins.append(AdminSpec(path: itemPath, email: email, name: name, role: role, passwordEnv: passwordEnv))
        }
        return admins
    }

    mutating func partner(_ node: Node, path: String) -> PartnerSpec? {
        guard let map = mapping(node, path: path, allowed: ["slug", "name", "domains", "branding", "admins", "plans", "llm"]) else {
            return nil
        }
        var plans: [Plan]?
        if let plansNode = map["plans"], let items = sequence(plansNode, path: path + ".plans") {
            var list: [Plan] = []
            for (index, item) in items.enumerated() {
                let itemPath = "\(path).plans[\(index)]"
                guard let plan = plan(item, path: itemPath) else { continue }
                if list.contains(where: { $0.slug == plan.slug }) {
                    report(item, itemPath + ".slug", "the plan slug '\(plan.slug)' appears twice in this partner")
                }
                list.append(plan)
            }
            plans = list
        }
        let admins = map["admins"].map { adminList($0, path: path + ".admins", scope: .partner) }
        let slug = slugField(map, path: path, node: node)
        let name = requiredString(map, "name", path: path, node: node, maxLength: 200)
        let domains = domainList(map["domains"], path: path + ".domains")
        let branding = map["branding"].map { brandingField($0, path: path + ".branding") } ?? Branding()
        let llm = map["llm"].flatMap { self.llm($0, path: path + ".llm", forBot: false) }
        if let llm, llm.settings.provider == nil {
            report(map["llm"], path + ".llm.provider", "is required: openai, yandexgpt or gigachat")
        }
        guard let slug, let name else { return nil }
        return PartnerSpec(
            path: path, slug: slug, name: name, domains: domains, branding: branding, admins: admins, plans: plans, llm: llm)
    }

    mutating func tenant(_ node: Node, path: String) -> TenantSpec? {
        guard
            let map = mapping(
                node, path: path,
                allowed: Set([
                    "slug", "name", "partner", "status", "domains", "branding", "help_articles", "admins", "plan", "llm_token_cap",
                ])
                .union(Self.botKeys))
        else { return nil }
        let slug = slugField(map, path: path, node: node)
        if let slug, Slug.reserved.contains(slug) { report(map["slug"], path + ".slug", "'\(slug)' is reserved for the platform") }
        let name = requiredString(map, "name", path: path, node: node, maxLength: 200)
        let partner = map["partner"].flatMap { string($0, path: path + ".partner") }
        var status = TenantStatus.active
        if let statusNode = map["status"], let text = string(statusNode, path: path + ".status") {
            if text == "active" || text == "suspended" {
                status = TenantStatus(rawValue: text)!
            } else {
                report(statusNode, path + ".status", "must be active or suspended, not '\(text)'")
            }
        }
        let domains = domainList(map["domains"], path: path + ".domains")
        let branding = map["branding"].map { brandingField($0, path: path + ".branding") } ?? Branding()
        if branding.poweredBy != nil || branding.allowTenantBranding != nil || branding.theme != nil {
            report(
                map["branding"], path + ".branding", "powered_by, allow_tenant_branding and theme are the partner's choices, not a tenant's"
            )
        }
        var articles: [HelpArticle]?
        if let articlesNode = map["help_articles"], let items = sequence(articlesNode, path: path + ".help_articles") {
            var list: [HelpArticle] = []
            var seen: Set<String> = []
            for (index, item) in items.enumerated() {
                let itemPath = "\(path).help_articles[\(index)]"
                guard let article = article(item, path: itemPath, position: index + 1) else { continue }
                if !seen.insert(article.slug).inserted {
                    report(item, itemPath + ".slug", "the article slug '\(article.slug)' appears twice in this tenant")
                }
                list.append(article)
            }
            articles = list
        }
        let admins = map["admins"].map { adminList($0, path: path + ".admins", scope: .tenant) }
        let plan = map["plan"].flatMap { string($0, path: path + ".plan") }
        let cap = map["llm_token_cap"].map { tokenCap($0, path: path + ".llm_token_cap") }
        let bot = botSpec(map, path: path, articles: articles)
        guard let slug, let name else { return nil }
        var spec = TenantSpec(
            path: path, slug: slug, name: name, partner: partner, status: status, domains: domains, branding: branding,
            helpArticles: articles, admins: admins, plan: plan, bot: bot)
        spec.llmTokenCap = cap
        return spec
    }

    /// `{slug, name, bots, messages_per_month, seats, llm_tokens_per_month}`; a limit left out (or `unlimited`) is none.
    mutating func plan(_ node: Node, path: String) -> Plan? {
        guard
            let map = mapping(
                node, path: path, allowed: ["slug", "name", "bots", "messages_per_month", "seats", "llm_tokens_per_month"])
        else { return nil }
        let slug = slugField(map, path: path, node: node)
        let name = requiredString(map, "name", path: path, node: node, maxLength: 100)
        func limit(_ key: String, minimum: Int) -> Int? {
            guard let field = map[key], scalarType(field) != .null else { return nil }
            if case .scalar(let scalar) = field, scalar.string == "unlimited" { return nil }
            guard case .scalar(let scalar) = field, scalarType(field) == .int, let value = Int(scalar.string), value >= minimum,
                value <= 2_000_000_000
            else {
                report(field, path + "." + key, "must be a whole number from \(minimum) to 2000000000, or unlimited")
                return nil
            }
            return value
        }
        let plan = Plan(
            slug: slug ?? "", name: name ?? "", maxBots: limit("bots", minimum: 0),
            maxMessagesPerMonth: limit("messages_per_month", minimum: 0), maxSeats: limit("seats", minimum: 1),
            llmTokensPerMonth: limit("llm_tokens_per_month", minimum: 0))
        guard slug != nil, name != nil else { return nil }
        return plan
    }

    /// A shop's own token cap: a whole number from 0, or `none` (or null) for no cap of its own.
    mutating func tokenCap(_ field: Node, path: String) -> Int? {
        if scalarType(field) == .null { return nil }
        if case .scalar(let scalar) = field, scalar.string == "none" { return nil }
        guard case .scalar(let scalar) = field, scalarType(field) == .int, let value = Int(scalar.string), value >= 0,
            value <= 2_000_000_000
        else {
            report(field, path, "must be a whole number from 0 to 2000000000, or none")
            return nil
        }
        return value
    }

    mutating func article(_ node: Node, path: String, position: Int) -> HelpArticle? {
        guard let map = mapping(node, path: path, allowed: ["slug", "title", "body"]) else { return nil }
        var slug = map["slug"].flatMap { string($0, path: path + ".slug") }
        if map["slug"] == nil { report(node, path, "slug is required") }
        if let value = slug, !Slug.isValidArticleSlug(value) {
            report(map["slug"], path + ".slug", "'\(value)' is not a valid article slug (lower-case letters, digits and hyphens)")
            slug = nil
        }
        let title = requiredString(map, "title", path: path, node: node, maxLength: 200)
        let body = requiredString(map, "body", path: path, node: node, maxLength: 100_000)
        guard let slug, let title, let body else { return nil }
        return HelpArticle(slug: slug, title: title, body: body.trimmingCharacters(in: .whitespacesAndNewlines), position: position)
    }

    mutating func domainList(_ node: Node?, path: String) -> [String] {
        guard let node, let items = sequence(node, path: path) else { return [] }
        var result: [String] = []
        for (index, item) in items.enumerated() {
            guard let raw = string(item, path: "\(path)[\(index)]") else { continue }
            guard let host = HostName.normalize(raw), host.contains(".") else {
                report(item, "\(path)[\(index)]", "'\(raw)' is not a valid domain name")
                continue
            }
            if host == baseDomain || host == "admin." + baseDomain {
                report(item, "\(path)[\(index)]", "\(host) is the platform's own domain")
                continue
            }
            result.append(host)
        }
        return result
    }

    mutating func crossCheck(_ manifest: Manifest, root: [String: Node]) {
        // A tenant's plan must be one of its partner's, when the file lists that partner's plans (else `apply` checks).
        var plans: [String: Set<String>] = [:]
        for partner in manifest.partners { if let list = partner.plans { plans[partner.slug] = Set(list.map(\.slug)) } }
        for tenant in manifest.tenants {
            guard let plan = tenant.plan else { continue }
            guard let partner = tenant.partner else {
                report(nil, tenant.path + ".plan", "only a partner's tenants have plans")
                continue
            }
            if let slugs = plans[partner], !slugs.contains(plan) {
                report(
                    nil, tenant.path + ".plan",
                    "partner '\(partner)' has no plan '\(plan)' (it has: \(slugs.sorted().joined(separator: ", ")))")
            }
        }
        var partnerSlugs: Set<String> = []
        for partner in manifest.partners where !partnerSlugs.insert(partner.slug).inserted {
            report(nil, partner.path + ".slug", "the partner slug '\(partner.slug)' appears twice")
        }
        var tenantSlugs: Set<String> = []
        for tenant in manifest.tenants where !tenantSlugs.insert(tenant.slug).inserted {
            report(nil, tenant.path + ".slug", "the tenant slug '\(tenant.slug)' appears twice")
        }
        for tenant in manifest.tenants {
            if let partner = tenant.partner, !partnerSlugs.contains(partner) {
                report(nil, tenant.path + ".partner", "there is no partner '\(partner)' in this file")
            }
        }
        // Every host must be claimed once: custom domains and the tenants' own <slug>.<base> names.
        var owners: [String: String] = [:]
        for tenant in manifest.tenants { owners[tenant.slug + "." + baseDomain] = tenant.path + ".slug" }
        func claim(_ host: String, at path: String) {
            if let owner = owners[host] {
                report(nil, path, "the domain \(host) is already used by \(owner)")
            } else {
                owners[host] = path
            }
        }
        for partner in manifest.partners {
            for (index, host) in partner.domains.enumerated() { claim(host, at: "\(partner.path).domains[\(index)]") }
        }
        for tenant in manifest.tenants {
            for (index, host) in tenant.domains.enumerated() { claim(host, at: "\(tenant.path).domains[\(index)]") }
        }
    }
}
