import Foundation
import PostgresNIO

/// How long a session lasts: it ends after `idle` without a request, and `absolute` after sign-in in any case.
public struct SessionPolicy: Sendable, Equatable {
    public var idle: Duration = .seconds(8 * 3600)
    public var absolute: Duration = .seconds(7 * 24 * 3600)

    public init(idle: Duration = .seconds(8 * 3600), absolute: Duration = .seconds(7 * 24 * 3600)) {
        self.idle = idle
        self.absolute = absolute
    }
}

/// Sessions in PostgreSQL, so every server process shares them. Only a SHA-256 of the cookie's token is stored, and a
/// session belongs to the one host it was created on.
public struct SessionStore: Sendable {
    let database: Database
    let policy: SessionPolicy

    public init(database: Database, policy: SessionPolicy) {
        self.database = database
        self.policy = policy
    }

    /// Starts a session and returns its (new, random) cookie token. `replacing` is the token the browser sent, if any:
    /// that session ends, so an identifier planted before sign-in is worthless after it.
    public func create(
        userID: UUID, host: String, address: String?, userAgent: String?, replacing old: String?,
        impersonator: (id: UUID, reason: String, lifetime: Duration)? = nil, flash: Flash? = nil
    ) async throws -> String {
        let flashJSON = try flash.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let token = SecretToken.make()
        let absolute = impersonator?.lifetime.components.seconds ?? policy.absolute.components.seconds
        let oldHash = old.map { Data(SecretToken.hash($0)) } ?? Data()
        try await database.execute(
            """
            WITH gone AS (DELETE FROM platform.sessions WHERE token_hash = \(oldHash))
            INSERT INTO platform.sessions
                (id, token_hash, user_id, host, csrf_token, address, user_agent, expires_at, impersonator_id, impersonation_reason, flash)
            VALUES (\(UUID()), \(Data(SecretToken.hash(token))), \(userID), \(host), \(SecretToken.make()), \(address),
                \(userAgent.map { String($0.prefix(300)) }), now() + make_interval(secs => \(Double(absolute))), \(impersonator?.id),
                \(impersonator?.reason), \(flashJSON))
            """)
        return token
    }

    /// The signed-in user for a cookie token on a host, with their roles that can apply to the site, in one round trip.
    /// Touches the session (at most once a minute) and takes its flash message.
    public func load(token: String, host: String, tenantID: UUID?, partnerID: UUID?) async throws -> SignedInUser? {
        guard SecretToken.looksValid(token) else { return nil }
        let hash = Data(SecretToken.hash(token))
        let idle = Double(policy.idle.components.seconds)
        let rows = try await database.values(
            (UUID, String, String?, UUID, String, String, String?, String?, String?, Date, [String]).self,
            """
            WITH s AS (
                SELECT id, user_id, csrf_token, flash, impersonator_id, impersonation_reason, expires_at FROM platform.sessions
                WHERE token_hash = \(hash) AND host = \(host) AND expires_at > now()
                    AND last_seen_at > now() - make_interval(secs => \(idle))
            ), touched AS (
                UPDATE platform.sessions SET last_seen_at = now(), flash = NULL
                WHERE id IN (SELECT id FROM s) AND (last_seen_at < now() - interval '1 minute' OR flash IS NOT NULL)
            )
            SELECT s.id, s.csrf_token, s.flash, u.id, u.email, u.name, u.language,
                (SELECT i.email FROM platform.users i WHERE i.id = s.impersonator_id), s.impersonation_reason, s.expires_at,
                array(SELECT m.role FROM platform.memberships m WHERE m.user_id = u.id
                    AND (m.tenant_id = \(tenantID) OR m.partner_id = \(partnerID) OR (m.tenant_id IS NULL AND m.partner_id IS NULL)))
            FROM s JOIN platform.users u ON u.id = s.user_id AND u.disabled_at IS NULL
            """)
        for row in rows {
            let flash = row.2.flatMap { try? JSONDecoder().decode(Flash.self, from: Data($0.utf8)) }
            let impersonator = row.7.map { Impersonator(email: $0, reason: row.8 ?? "", endsAt: row.9) }
            return SignedInUser(
                sessionID: row.0, user: UserRecord(id: row.3, email: row.4, name: row.5, language: row.6, passwordHash: nil),
                roles: row.10.compactMap(Role.init(rawValue:)), csrfToken: row.1, flash: flash, impersonator: impersonator)
        }
        return nil
    }

    /// Ends the session with this token (sign-out).
    public func delete(token: String) async throws {
        try await database.execute("DELETE FROM platform.sessions WHERE token_hash = \(Data(SecretToken.hash(token)))")
    }

    /// Ends every session of a user, on every host ("sign out everywhere", a password change or reset).
    @discardableResult
    public func deleteAll(userID: UUID, except sessionID: UUID? = nil, on runner: (any QueryRunner)? = nil) async throws -> Int {
        try await (runner ?? database).rows(
            "DELETE FROM platform.sessions WHERE user_id = \(userID) AND id IS DISTINCT FROM \(sessionID) RETURNING id"
        ).count
    }

    /// Leaves a message for the session's next page.
    public func setFlash(_ flash: Flash, sessionID: UUID) async throws {
        let json = String(decoding: try JSONEncoder().encode(flash), as: UTF8.self)
        try await database.execute("UPDATE platform.sessions SET flash = \(json) WHERE id = \(sessionID)")
    }

    /// How many sessions the user has (the profile page shows it).
    public func count(userID: UUID) async throws -> Int {
        try await database.value(
            Int.self, "SELECT count(*)::int FROM platform.sessions WHERE user_id = \(userID) AND expires_at > now()") ?? 0
    }

    /// Deletes expired sessions (run periodically).
    public func purgeExpired() async throws {
        let idle = Double(policy.idle.components.seconds)
        try await database.execute(
            "DELETE FROM platform.sessions WHERE expires_at < now() OR last_seen_at < now() - make_interval(secs => \(idle))")
    }
}
