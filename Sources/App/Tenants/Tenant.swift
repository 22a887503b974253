import Foundation

/// A tenant's lifecycle: active → suspended → deleted (data kept) → purged (schema dropped).
public enum TenantStatus: String, Sendable, Codable, CaseIterable {
    case active, suspended, deleted, purged
}

/// The installation itself as the directory holds it: the operator's own brand (`platform.settings`, set in
/// tenants.yml's `platform:` section or on the platform panel) over the product's defaults. It frames the platform's
/// own pages, the 404 page of hosts nobody owns, shops that no agency manages, and the "powered by" label.
public struct PlatformRecord: Sendable, Equatable {
    /// What the operator set (only the fields it set).
    public var branding: Branding
    /// The operator's brand over the product's defaults, as pages show it.
    public var resolvedBranding: Branding

    public init(branding: Branding = Branding()) {
        self.branding = branding
        resolvedBranding = Branding.forPlatform(branding)
    }
}

/// A partner agency or reseller as the directory holds it.
public struct PartnerRecord: Sendable, Equatable {
    public var id: UUID
    public var slug: String
    public var name: String
    public var branding: Branding
    public var domains: [String]
    /// The verified domain the partner's other hosts redirect to, if one is primary.
    public var primaryDomain: String? = nil
    /// The partner's branding over the product's defaults (set by the directory, which knows the platform's name for
    /// "powered by").
    public var resolvedBranding: Branding = Branding()
}

/// A tenant (merchant) as the directory holds it.
public struct TenantRecord: Sendable, Equatable {
    public var id: UUID
    public var slug: String
    public var name: String
    public var status: TenantStatus
    public var schema: SchemaName
    public var partnerID: UUID?
    public var branding: Branding
    /// Tenant over partner over platform, as pages show it.
    public var resolvedBranding: Branding
    /// The partner's resolved branding (the platform's for a tenant without a partner), for layering fresh tenant
    /// settings read with a page.
    public var partnerBranding: Branding = .productDefault
    public var domains: [String]
    /// The verified domain the tenant's other hosts (including `<slug>.<base>`) redirect to, if one is primary.
    public var primaryDomain: String? = nil

    public var scope: TenantScope { TenantScope(id: id, schema: schema) }
}

/// What a request's host resolves to.
public enum Site: Sendable {
    case platform(PlatformRecord)
    case partner(PartnerRecord)
    case tenant(TenantRecord)

    public var branding: Branding {
        switch self {
        case .platform(let platform): platform.resolvedBranding
        case .partner(let partner): partner.resolvedBranding
        case .tenant(let tenant): tenant.resolvedBranding
        }
    }
}

/// Rules for slugs: lower-case letters, digits and single hyphens, 2–40 characters, starting with a letter.
public enum Slug {
    /// Names a tenant may not take, because `<name>.<base domain>` means something else.
    public static let reserved: Set<String> = [
        "admin", "api", "app", "www", "static", "assets", "cdn", "mail", "smtp", "panel", "dashboard", "help",
        "status", "docs", "internal", "platform", "vitrina", "login", "auth", "billing", "support",
    ]

    /// A slug made from a name when none is given: its transliteration when that is a valid slug, else `<prefix>-` and
    /// the transliteration (or six letters from a hash of the name), so that leaving the slug out never fails on the
    /// name's account, and a client retrying the same request gets the same slug (a 409), never a second thing.
    public static func derived(from name: String, prefix: String, avoiding: Set<String> = []) -> String {
        let made = String(Transliteration.slug(from: name).prefix(40)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        if isValid(made), !avoiding.contains(made) { return made }
        let stem = made.isEmpty ? letters(hashing: name) : made
        return String((prefix + "-" + stem).prefix(40)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }

    /// Six lower-case letters from the name's FNV-1a hash: the same name, the same letters.
    static func letters(hashing name: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz")
        return String((0..<6).map { index in alphabet[Int((hash >> (UInt64(index) * 5)) % 26)] })
    }

    public static func isValid(_ slug: String) -> Bool {
        let bytes = Array(slug.utf8)
        guard (2...40).contains(bytes.count), (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[0]),
            bytes.last != UInt8(ascii: "-"), !slug.contains("--")
        else { return false }
        return bytes.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "-")
        }
    }

    /// Article slugs: lower-case letters, digits and hyphens, 1–80 characters.
    public static func isValidArticleSlug(_ slug: String) -> Bool {
        let bytes = Array(slug.utf8)
        guard (1...80).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else {
            return false
        }
        return bytes.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "-")
        }
    }
}
