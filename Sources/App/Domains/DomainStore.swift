import Foundation
import Logging
import PostgresNIO

/// Whose a custom domain is: a shop's (its help centre and panel) or an agency's (its panel).
public enum DomainOwner: Sendable, Equatable {
    case tenant(UUID)
    case partner(UUID)

    var tenantID: UUID? { if case .tenant(let id) = self { id } else { nil } }
    var partnerID: UUID? { if case .partner(let id) = self { id } else { nil } }
}

/// A custom domain as the panel and the API show it.
public struct DomainRecord: Sendable, Equatable, RowDecodable {
    public var host: String
    public var isPrimary: Bool
    public var verifiedAt: Date?
    /// `dns`, `http`, or `operator` (from tenants.yml or the CLI).
    public var verifiedBy: String?
    /// `nil` for domains the operator added (they were never challenged).
    public var token: String?
    public var checkedAt: Date?
    public var checkResult: String?
    public var createdAt: Date

    public var isVerified: Bool { verifiedAt != nil }

    static let columns = "host, is_primary, verified_at, verified_by, verification_token, checked_at, check_result, created_at"

    public init(
        host: String, isPrimary: Bool, verifiedAt: Date?, verifiedBy: String?, token: String?, checkedAt: Date?, checkResult: String?,
        createdAt: Date
    ) {
        self.host = host
        self.isPrimary = isPrimary
        self.verifiedAt = verifiedAt
        self.verifiedBy = verifiedBy
        self.token = token
        self.checkedAt = checkedAt
        self.checkResult = checkResult
        self.createdAt = createdAt
    }

    public init(row: PostgresRow) throws {
        (host, isPrimary, verifiedAt, verifiedBy, token, checkedAt, checkResult, createdAt) = try row.decode(
            (String, Bool, Date?, String?, String?, Date?, String?, Date).self)
    }

    /// The DNS records to create while the domain is unverified (none once it is): a CNAME to the installation and
    /// the TXT record with the token, under the label the owner's brand shows.
    public func records(cnameTarget: String, poweredBy: Bool) -> [DNSRecord] {
        guard !isVerified else { return [] }
        return [
            DNSRecord(type: "CNAME", name: host, value: cnameTarget),
            DNSRecord(type: "TXT", name: "\(DomainChallenge.label(poweredBy: poweredBy)).\(host)", value: token ?? ""),
        ]
    }
}

/// A DNS record someone is asked to create (shown in the panel, returned by the API).
public struct DNSRecord: Sendable, Encodable, Equatable {
    public let type: String
    public let name: String
    public let value: String
}

/// Why a domain change is refused (interface-text keys; the API maps them to problem types).
public enum DomainError: String, Error, Sendable {
    case invalid = "domain_error_invalid"
    case reserved = "domain_error_reserved"
    case taken = "domain_error_taken"
    case limit = "domain_error_limit"
    case notVerified = "domain_error_not_verified"
    case notFound = "domain_error_not_found"
}

/// Custom domains added in the panels and the API: each starts unverified with a random token, is checked on demand
/// and every few minutes (`DomainVerificationService`), and routes once its TXT record or HTTP challenge proves it.
/// A verified domain can be made primary; the site's other hosts then redirect to it.
public struct DomainStore: Sendable {
    let database: Database
    let verifier: DomainVerifier
    let directory: TenantDirectory
    let clock: WallClock
    let logger: Logger
    /// Custom domains per shop or agency.
    public static let limitPerOwner = 10
    /// How long an unverified domain is checked (and holds its name).
    public static let pendingDays = 14
    /// "Check now" at most this often per domain; quicker presses get the last result (DNS look-ups block a thread
    /// of the shared pool, and the HTTP check requests someone else's server).
    let checkSpacing: Duration

    var cnameTarget: String { verifier.cnameTarget }

    public init(
        database: Database, verifier: DomainVerifier, directory: TenantDirectory, checkSpacing: Duration = .seconds(10),
        clock: WallClock = .system, logger: Logger
    ) {
        self.database = database
        self.verifier = verifier
        self.directory = directory
        self.checkSpacing = checkSpacing
        self.clock = clock
        self.logger = logger
    }

    public func list(_ owner: DomainOwner, on runner: (any QueryRunner)? = nil) async throws -> [DomainRecord] {
        try await (runner ?? database).all(
            DomainRecord.self,
            """
            SELECT \(unescaped: DomainRecord.columns) FROM platform.domains
            WHERE tenant_id IS NOT DISTINCT FROM \(owner.tenantID) AND partner_id IS NOT DISTINCT FROM \(owner.partnerID)
            ORDER BY is_primary DESC, host
            """)
    }

    public func find(_ host: String, owner: DomainOwner) async throws -> DomainRecord? {
        try await list(owner).first { $0.host == host }
    }

    /// Checks and normalises a domain someone typed (IDNA, case, trailing dot). Refuses IP addresses, single labels,
    /// and the installation's own domain and its subdomains (those are the shops' `<slug>.<base>` names).
    public static func normalize(_ raw: String, baseDomain: String) -> Result<String, DomainError> {
        var text = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        for scheme in ["https://", "http://"] where text.hasPrefix(scheme) { text = String(text.dropFirst(scheme.count)) }
        if text.hasSuffix("/") { text.removeLast() }
        guard !text.isEmpty, !text.contains("/"), !text.contains(":"), let host = HostName.normalize(text), host.contains("."),
            host.count <= 253, !host.split(separator: ".").allSatisfy({ $0.allSatisfy(\.isNumber) }),
            host.split(separator: ".").last?.allSatisfy(\.isNumber) == false
        else { return .failure(.invalid) }
        if host == baseDomain || host.hasSuffix("." + baseDomain) { return .failure(.reserved) }
        return .success(host)
    }

    /// Adds an unverified domain with a fresh token.
    public func add(_ raw: String, owner: DomainOwner, on transaction: Transaction) async throws -> Result<DomainRecord, DomainError> {
        let host: String
        switch Self.normalize(raw, baseDomain: directory.snapshot.baseDomain) {
        case .success(let value): host = value
        case .failure(let error): return .failure(error)
        }
        if host == cnameTarget { return .failure(.reserved) }
        // The owner's domains, locked: two adds at once cannot both take the tenth place.
        let existing = try await transaction.rows(
            """
            SELECT host FROM platform.domains
            WHERE tenant_id IS NOT DISTINCT FROM \(owner.tenantID) AND partner_id IS NOT DISTINCT FROM \(owner.partnerID) FOR UPDATE
            """
        ).count
        if existing >= Self.limitPerOwner { return .failure(.limit) }
        // A claim nobody proved within the checking window stops blocking the name for its real owner.
        try await transaction.execute(
            """
            DELETE FROM platform.domains WHERE host = \(host) AND verified_at IS NULL
                AND created_at < now() - make_interval(days => \(Self.pendingDays)::int)
            """)
        let token = SecretToken.make()
        let added = try await transaction.first(
            DomainRecord.self,
            """
            INSERT INTO platform.domains (host, tenant_id, partner_id, verification_token)
            VALUES (\(host), \(owner.tenantID), \(owner.partnerID), \(token))
            ON CONFLICT (host) DO NOTHING RETURNING \(unescaped: DomainRecord.columns)
            """)
        return added.map { .success($0) } ?? .failure(.taken)
    }

    /// Removes one of the owner's domains; `false` when it has no such domain.
    public func remove(_ host: String, owner: DomainOwner, on transaction: Transaction) async throws -> Bool {
        try await !transaction.rows(
            """
            DELETE FROM platform.domains WHERE host = \(host)
                AND tenant_id IS NOT DISTINCT FROM \(owner.tenantID) AND partner_id IS NOT DISTINCT FROM \(owner.partnerID)
            RETURNING host
            """
        ).isEmpty
    }

    /// Makes a verified domain the owner's primary one (`primary: false` clears it, and nothing redirects).
    public func setPrimary(
        _ host: String, primary: Bool, owner: DomainOwner, on transaction: Transaction
    ) async throws
        -> Result<Void, DomainError>
    {
        // Every domain of the owner locked: two "make primary" at once queue instead of colliding on the unique index.
        let domains = try await transaction.values(
            (String, Bool).self,
            """
            SELECT host, verified_at IS NOT NULL FROM platform.domains
            WHERE tenant_id IS NOT DISTINCT FROM \(owner.tenantID) AND partner_id IS NOT DISTINCT FROM \(owner.partnerID) FOR UPDATE
            """)
        guard let verified = domains.first(where: { $0.0 == host })?.1 else { return .failure(.notFound) }
        guard verified || !primary else { return .failure(.notVerified) }
        try await transaction.execute(
            """
            UPDATE platform.domains SET is_primary = false
            WHERE is_primary AND tenant_id IS NOT DISTINCT FROM \(owner.tenantID) AND partner_id IS NOT DISTINCT FROM \(owner.partnerID)
            """)
        if primary { try await transaction.execute("UPDATE platform.domains SET is_primary = true WHERE host = \(host)") }
        return .success(())
    }

    /// Checks one domain now and records what was found; a domain that passes is verified (and routes once the
    /// directory reloads, which the update's NOTIFY triggers).
    public func verify(_ host: String, owner: DomainOwner) async throws -> Result<DomainCheckResult, DomainError> {
        guard let domain = try await find(host, owner: owner) else { return .failure(.notFound) }
        guard let token = domain.token, !domain.isVerified else { return .success(DomainCheckResult(txtFound: true)) }
        if let checked = domain.checkedAt, clock.now().timeIntervalSince(checked) < Double(checkSpacing.components.seconds),
            let last = domain.checkResult.flatMap(DomainCheckResult.init(summary:))
        {
            return .success(last)
        }
        let result = await verifier.check(
            host: host, token: token, poweredBy: poweredBy(owner), acceptHTTP: try await httpProvesControl(host, owner: owner))
        try await record(result, host: host, token: token)
        if result.verified { try await directory.reload() }
        return .success(result)
    }

    /// Checks up to `limit` unverified domains not checked in the last `interval` (at most 14 days after they were
    /// added), claiming them first so that several instances do not check the same domain. Returns how many passed.
    @discardableResult
    public func verifyPending(limit: Int = 20, interval: Duration = .seconds(300)) async throws -> Int {
        let seconds = Double(interval.components.seconds)
        let rows = try await database.values(
            (String, String, UUID?, UUID?).self,
            """
            UPDATE platform.domains SET checked_at = now()
            WHERE host IN (
                SELECT host FROM platform.domains
                WHERE verified_at IS NULL AND verification_token IS NOT NULL
                  AND created_at > now() - make_interval(days => \(Self.pendingDays)::int)
                  AND (checked_at IS NULL OR checked_at < now() - make_interval(secs => \(seconds)))
                ORDER BY checked_at NULLS FIRST LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING host, verification_token, tenant_id, partner_id
            """)
        var claimed: [(String, String, DomainOwner)] = []
        for (host, token, tenantID, partnerID) in rows {
            if let tenantID {
                claimed.append((host, token, .tenant(tenantID)))
            } else if let partnerID {
                claimed.append((host, token, .partner(partnerID)))
            }
        }
        var passed = 0
        for (host, token, owner) in claimed {
            let result = await verifier.check(
                host: host, token: token, poweredBy: poweredBy(owner), acceptHTTP: try await httpProvesControl(host, owner: owner))
            try await record(result, host: host, token: token)
            if result.verified {
                passed += 1
                logger.info("Domain verified", metadata: ["domain": "\(host)", "by": "\(result.method ?? "")"])
            }
        }
        return passed
    }

    private func record(_ result: DomainCheckResult, host: String, token: String) async throws {
        // The token in the condition: a domain removed and added again meanwhile has a new one.
        try await database.execute(
            """
            UPDATE platform.domains SET checked_at = now(), check_result = \(result.summary),
                verified_at = CASE WHEN \(result.verified) THEN now() ELSE verified_at END,
                verified_by = CASE WHEN \(result.verified) THEN \(result.method) ELSE verified_by END
            WHERE host = \(host) AND verification_token = \(token) AND verified_at IS NULL
            """)
    }

    /// The HTTP challenge proves only that a name reaches this installation, which is also true of a name under
    /// someone else's domain here (a wildcard record, a CNAME left behind). Under another owner's verified domain,
    /// only the TXT record counts.
    func httpProvesControl(_ host: String, owner: DomainOwner) async throws -> Bool {
        var parents: [String] = []
        var labels = host.split(separator: ".").map { String($0) }
        while labels.count > 2 {
            labels.removeFirst()
            parents.append(labels.joined(separator: "."))
        }
        guard !parents.isEmpty else { return true }
        return try await database.rows(
            """
            SELECT 1 FROM platform.domains
            WHERE host = ANY(\(parents)) AND verified_at IS NOT NULL
              AND NOT (tenant_id IS NOT DISTINCT FROM \(owner.tenantID) AND partner_id IS NOT DISTINCT FROM \(owner.partnerID))
            """
        ).isEmpty
    }

    /// Whether the owner's brand shows the platform's name (which decides the challenge's names).
    func poweredBy(_ owner: DomainOwner) -> Bool {
        let snapshot = directory.snapshot
        switch owner {
        case .tenant(let id): return snapshot.tenantsByID[id]?.resolvedBranding.poweredBy ?? false
        case .partner(let id): return snapshot.partnersByID[id]?.resolvedBranding.poweredBy ?? false
        }
    }

    /// The answer to `/.well-known/<label>/<token>` on `host`: the token when it is that domain's.
    public func challengeAnswer(host: String, token: String) async throws -> String? {
        try await database.value(
            String.self, "SELECT verification_token FROM platform.domains WHERE host = \(host) AND verification_token = \(token)")
    }
}
