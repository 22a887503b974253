import Foundation
import PostgresNIO

/// Invitations by e-mail, and new shops with their first owner's invitation. The one-time token, the branded mail in
/// the outbox and the audit entry commit together or not at all. The panel and the API both come through here.
public struct Invitations: Sendable {
    let database: Database
    let tokens: OneTimeTokens
    let outbox: Outbox
    let plans: PlanStore
    let auditLog: AuditLog
    let mail: MailComposer
    let provisioner: TenantProvisioner

    public init(
        database: Database, tokens: OneTimeTokens, outbox: Outbox, plans: PlanStore, auditLog: AuditLog, mail: MailComposer,
        provisioner: TenantProvisioner
    ) {
        self.database = database
        self.tokens = tokens
        self.outbox = outbox
        self.plans = plans
        self.auditLog = auditLog
        self.mail = mail
        self.provisioner = provisioner
    }

    /// Who sends an invitation: the account that does (if a person does) and the name the e-mail gives.
    public struct Inviter: Sendable {
        public let userID: UUID?
        public let name: String

        public init(userID: UUID?, name: String) {
            self.userID = userID
            self.name = name
        }
    }

    /// Invites `email` to `tenant`'s team with `role`; the link points at `origin` (the tenant's host). Throws
    /// `SeatLimitReached` when the shop's plan has no free seat.
    public func invite(
        _ email: String, role: Role, to tenant: TenantRecord, by inviter: Inviter, origin: String, language: String, audit: AuditEntry
    ) async throws {
        try await database.transaction { transaction in
            try await plans.checkSeat(tenantID: tenant.id, on: transaction)
            let token = try await tokens.issue(
                OneTimeToken(purpose: .invite, email: email, tenantID: tenant.id, role: role, createdBy: inviter.userID), on: transaction)
            let message = mail.invitation(
                to: email, siteName: tenant.name, inviter: inviter.name, role: role,
                link: origin + PanelURL.invite.path(query: [("token", token)]),
                branding: tenant.resolvedBranding, origin: origin, language: tenant.resolvedBranding.defaultLanguage ?? language)
            try await outbox.enqueue(
                OutgoingMail(
                    to: email, subject: message.subject, text: message.text, html: message.html, partnerID: tenant.partnerID,
                    tenantID: tenant.id, branding: tenant.resolvedBranding),
                on: transaction)
            try await auditLog.record(audit, on: transaction)
        }
    }

    /// A shop to create and the address of its first owner.
    public struct NewShop: Sendable {
        public var slug: String
        public var name: String
        public var ownerEmail: String
        public var language: String
    }

    /// Provisions the shop (schema, migrations, directory row) and invites its owner, in one transaction; the link
    /// points at `origin` (the shop's own host). The audit entry gets the new tenant's id. Returns the tenant's scope.
    @discardableResult
    public func createShop(
        _ shop: NewShop, partner: PartnerRecord?, platform: PlatformRecord, by inviter: Inviter, origin: String, audit: AuditEntry
    ) async throws -> TenantScope {
        let partnerBranding = partner?.resolvedBranding ?? platform.resolvedBranding
        let own = Branding(defaultLanguage: shop.language)
        let branding = Branding.forTenant(own, partner: partnerBranding, shopName: shop.name)
        return try await database.transaction { transaction in
            let scope = try await provisioner.provision(
                NewTenant(slug: shop.slug, name: shop.name, partnerSlug: partner?.slug, branding: own), on: transaction)
            let token = try await tokens.issue(
                OneTimeToken(purpose: .invite, email: shop.ownerEmail, tenantID: scope.id, role: .owner, createdBy: inviter.userID),
                on: transaction)
            let message = mail.invitation(
                to: shop.ownerEmail, siteName: shop.name, inviter: inviter.name, role: .owner,
                link: origin + PanelURL.invite.path(query: [("token", token)]), branding: branding, origin: origin, language: shop.language)
            try await outbox.enqueue(
                OutgoingMail(
                    to: shop.ownerEmail, subject: message.subject, text: message.text, html: message.html, partnerID: partner?.id,
                    tenantID: scope.id, branding: branding), on: transaction)
            var entry = audit
            entry.tenantID = scope.id
            try await auditLog.record(entry, on: transaction)
            return scope
        }
    }

    /// Checks a new shop's name, slug (made from the name when empty) and owner's address, as the console's form and
    /// the API both need: the slug to use, and the fields refused (interface-text keys).
    public static func check(name: String, slug: String, ownerEmail: String) -> (slug: String, errors: [String: String]) {
        var slug = slug
        var errors: [String: String] = [:]
        if slug.isEmpty {
            slug = Slug.derived(from: name, prefix: "shop", avoiding: Slug.reserved)
        }
        if let problem = checkName(name) { errors["name"] = problem }
        if !Slug.isValid(slug) {
            errors["slug"] = "tenants_slug_invalid"
        } else if Slug.reserved.contains(slug) {
            errors["slug"] = "tenants_slug_reserved"
        }
        if !EmailAddress.isValid(ownerEmail) { errors["email"] = "form_email_invalid" }
        return (slug, errors)
    }

    /// A shop's name: required, at most 200 characters (an interface-text key when refused).
    public static func checkName(_ name: String) -> String? {
        if name.isEmpty { return "form_required" }
        if name.databaseLength > 200 { return "form_too_long" }
        return nil
    }
}
