import Foundation
import PostgresNIO

/// A kind of job: its name in `platform.jobs.kind` and its payload, which must be everything the work needs besides
/// the tenant (ids, never secrets or content that a notification could leak).
public protocol JobKind: Codable, Sendable {
    static var kind: String { get }
}

/// A job as a worker claimed it.
public struct Job: Sendable, RowDecodable {
    public let id: Int
    public let tenantID: UUID?
    public let kind: String
    public let payload: String
    /// This run's number, from 1.
    public let attempt: Int
    public let maxAttempts: Int
    /// The claim this run holds; the outcome is recorded only under it.
    public let leaseToken: UUID

    /// The columns, as `claim` returns them from `platform.jobs j`.
    static let columns = "j.id::int, j.tenant_id, j.kind, j.payload::text, j.attempts, j.max_attempts, j.lease_token"

    public init(row: PostgresRow) throws {
        (id, tenantID, kind, payload, attempt, maxAttempts, leaseToken) = try row.decode(
            (Int, UUID?, String, String, Int, Int, UUID).self)
    }

    /// The payload as its kind's type.
    public func decode<Payload: JobKind>(_ type: Payload.Type) throws -> Payload {
        do {
            return try JSONDecoder().decode(Payload.self, from: Data(payload.utf8))
        } catch {
            throw JobFailure.permanent("The job's payload is not a \(Payload.kind) payload: \(error)")
        }
    }

    /// Whether this is the last attempt the job gets.
    public var isLastAttempt: Bool { attempt >= maxAttempts }
}

/// How a handler says its job should not simply be retried.
public enum JobFailure: Error, Sendable, CustomStringConvertible {
    /// Retrying cannot help (a refused address, a payload that makes no sense): the job fails now and is kept.
    case permanent(String)
    /// Try again after this long, without counting it as a failure (a provider asked to wait).
    case retryAfter(Duration, String)

    public var description: String {
        switch self {
        case .permanent(let message): message
        case .retryAfter(_, let message): message
        }
    }
}

/// A job as the platform panel lists it.
public struct JobListing: Sendable, RowDecodable {
    public let id: Int
    public let kind: String
    public let tenantSlug: String?
    public let status: String
    public let attempts: Int
    public let lastError: String?
    public let createdAt: Date
    public let finishedAt: Date?

    static let columns = "j.id::int, j.kind, t.slug, j.status, j.attempts, j.last_error, j.created_at, j.finished_at"

    public init(row: PostgresRow) throws {
        (id, kind, tenantSlug, status, attempts, lastError, createdAt, finishedAt) = try row.decode(
            (Int, String, String?, String, Int, String?, Date, Date?).self)
    }
}

/// How many jobs of a kind wait or run, and how late the oldest due one is.
public struct JobQueueDepth: Sendable, RowDecodable {
    public let kind: String
    public let queued: Int
    public let running: Int
    public let failed: Int
    /// Seconds since the oldest queued job became due (0 when none is late).
    public let lagSeconds: Double

    public init(row: PostgresRow) throws {
        (kind, queued, running, failed, lagSeconds) = try row.decode((String, Int, Int, Int, Double).self)
    }
}
