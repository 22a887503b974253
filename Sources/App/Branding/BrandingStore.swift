import Foundation
import PostgresNIO

/// Whose own branding a change is: the installation's (the operator's brand), an agency's or a shop's.
public enum BrandOwner: Sendable, Equatable {
    case platform
    case partner(UUID)
    case tenant(UUID)

    init(_ site: Site) {
        switch site {
        case .platform: self = .platform
        case .partner(let partner): self = .partner(partner.id)
        case .tenant(let tenant): self = .tenant(tenant.id)
        }
    }
}

/// Each level's own branding as stored (only the fields it sets): `platform.settings`, `platform.partners`,
/// `platform.tenants`. Every change fires the directory's NOTIFY, so every instance shows it within a second.
public struct BrandingStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The owner's own branding, or `nil` when there is no such partner or tenant.
    public func stored(_ owner: BrandOwner) async throws -> Branding? {
        let json: String?
        switch owner {
        case .platform: json = try await database.value(String.self, "SELECT branding::text FROM platform.settings")
        case .partner(let id): json = try await database.value(String.self, "SELECT branding::text FROM platform.partners WHERE id = \(id)")
        case .tenant(let id): json = try await database.value(String.self, "SELECT branding::text FROM platform.tenants WHERE id = \(id)")
        }
        return json.map(Branding.fromJSON)
    }

    /// Replaces the owner's own branding.
    public func store(_ branding: Branding, _ owner: BrandOwner, on runner: (any QueryRunner)? = nil) async throws {
        let runner = runner ?? database
        switch owner {
        case .platform:
            try await runner.execute(
                """
                INSERT INTO platform.settings (id, branding) VALUES (true, \(branding.json)::jsonb)
                ON CONFLICT (id) DO UPDATE SET branding = EXCLUDED.branding, updated_at = now()
                """)
        case .partner(let id):
            try await runner.execute("UPDATE platform.partners SET branding = \(branding.json)::jsonb, updated_at = now() WHERE id = \(id)")
        case .tenant(let id):
            try await runner.execute("UPDATE platform.tenants SET branding = \(branding.json)::jsonb, updated_at = now() WHERE id = \(id)")
        }
    }
}
