import Foundation

extension SecretRotation {
    /// Progress while a rotation or a status count runs.
    public enum Event: Sendable {
        /// A platform place is done.
        case place(SealedPlace, Counts)
        /// The tenants' schemas are next: how many.
        case tenantsStarting(Int)
        /// So many tenants are done (every `progressEvery`, and the last).
        case tenantsDone(Int, of: Int)
        /// One tenant could not be read or written (the others go on).
        case tenantFailed(TenantFailure)
    }

    /// One place's outcome (in one schema, or summed over them).
    public struct Counts: Sendable {
        public let place: SealedPlace
        /// Sealed again under the current key (a dry run: would be).
        public var resealed = 0
        /// Under the current key already.
        public var current = 0
        public var unreadable: [Unreadable] = []
    }

    /// A value no key of the ring opens: left as it was.
    public struct Unreadable: Sendable, Equatable, CustomStringConvertible {
        public let place: SealedPlace
        /// The tenant's slug (nil: the platform schema).
        public let tenant: String?
        /// The row's key (`id`, a partner's slug).
        public let row: String
        /// The key id the value names.
        public let keyID: String
        public let reason: SecretBoxError

        public var description: String {
            let why: String
            switch reason {
            case .otherKey: why = "sealed under key \(keyID), which this installation does not hold"
            case .malformed: why = "damaged (it does not open under key \(keyID))"
            }
            return (tenant.map { "tenant \($0): " } ?? "") + "\(place) row \(row): \(why)"
        }
    }

    /// A tenant whose schema could not be read or written (a lock held too long, a schema behind on migrations).
    public struct TenantFailure: Sendable, Equatable, CustomStringConvertible {
        public let slug: String
        public let message: String

        public var description: String { "tenant \(slug): \(message)" }
    }

    /// What a rotation did, or (a dry run) would do.
    public struct Report: Sendable {
        public var resealed = 0
        public var current = 0
        public var unreadable: [Unreadable] = []
        public var failures: [TenantFailure] = []
        /// Tenant schemas visited.
        public var tenants = 0
        /// The data folder's old key files deleted at the end.
        public var retired: [String] = []
        /// Per place, summed over the tenants, in `SealedPlace.all`'s order.
        public var places: [Counts] = SealedPlace.all.map { Counts(place: $0) }

        /// Every value readable and every tenant reached: nothing is left under an older key.
        public var succeeded: Bool { unreadable.isEmpty && failures.isEmpty }

        mutating func add(_ counts: Counts) {
            resealed += counts.resealed
            current += counts.current
            unreadable += counts.unreadable
            guard let index = places.firstIndex(where: { $0.place == counts.place }) else { return }
            places[index].resealed += counts.resealed
            places[index].current += counts.current
            places[index].unreadable += counts.unreadable
        }
    }

    /// Sealed values counted by place and key id.
    public struct Status: Sendable {
        public let currentKeyID: String
        public let olderKeyIDs: [String]
        public var rows: [Row] = []
        public var failures: [TenantFailure] = []
        public var tenants = 0

        /// Values of one place under one key.
        public struct Row: Sendable, Equatable {
            public let place: SealedPlace
            public let keyID: String
            public let standing: SecretBox.KeyStanding
            public var values: Int
            /// Tenant schemas holding them (0 for a platform place).
            public var tenants: Int
        }

        /// Values not under the current key, by standing.
        public func count(_ standing: SecretBox.KeyStanding) -> Int {
            rows.filter { $0.standing == standing }.map(\.values).reduce(0, +)
        }

        mutating func add(_ place: SealedPlace, keyID: String, standing: SecretBox.KeyStanding, count: Int, tenant: Bool = false) {
            if let index = rows.firstIndex(where: { $0.place == place && $0.keyID == keyID }) {
                rows[index].values += count
                rows[index].tenants += tenant ? 1 : 0
            } else {
                rows.append(Row(place: place, keyID: keyID, standing: standing, values: count, tenants: tenant ? 1 : 0))
            }
            let order = SealedPlace.all
            rows.sort {
                (order.firstIndex(of: $0.place) ?? 0, $0.keyID) < (order.firstIndex(of: $1.place) ?? 0, $1.keyID)
            }
        }
    }
}
