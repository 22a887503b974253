import Foundation
import Synchronization

/// A token bucket per key (an API key, a widget visitor, an address), in this instance's memory: `limit` requests a
/// minute, refilled continuously, bursts up to `limit`. Several instances each allow the limit (the limit is per
/// instance, as documented).
public final class RateLimiter<Key: Hashable & Sendable>: Sendable {
    public struct Decision: Sendable, Equatable {
        public let allowed: Bool
        public let limit: Int
        public let remaining: Int
        /// Whole seconds until one request is allowed again (0 when allowed).
        public let retryAfter: Int
    }

    struct Bucket {
        var tokens: Double
        var updated: Double
    }

    public let limit: Int
    private let now: @Sendable () -> Double
    private let buckets = Mutex<[Key: Bucket]>([:])

    /// `now` is seconds on a monotonic clock (tests pass their own).
    public init(perMinute limit: Int, now: (@Sendable () -> Double)? = nil) {
        self.limit = max(1, limit)
        self.now = now ?? { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
    }

    /// Whether the bucket has a request to give, without taking it.
    public func hasRoom(_ key: Key) -> Bool {
        let time = now()
        let capacity = Double(limit)
        return buckets.withLock { buckets in
            guard let bucket = buckets[key] else { return true }
            return min(capacity, bucket.tokens + (time - bucket.updated) * capacity / 60) >= 1
        }
    }

    /// Takes one request from the key's bucket, if there is one to take.
    public func take(_ key: Key) -> Decision {
        let time = now()
        let capacity = Double(limit)
        let perSecond = capacity / 60
        return buckets.withLock { buckets in
            // Full buckets are forgotten now and then, so keys seen once do not stay in memory.
            if buckets.count > 10_000 {
                buckets = buckets.filter { min(capacity, $0.value.tokens + (time - $0.value.updated) * perSecond) < capacity }
            }
            var bucket = buckets[key] ?? Bucket(tokens: capacity, updated: time)
            bucket.tokens = min(capacity, bucket.tokens + (time - bucket.updated) * perSecond)
            bucket.updated = time
            defer { buckets[key] = bucket }
            guard bucket.tokens >= 1 else {
                let wait = Int(((1 - bucket.tokens) / perSecond).rounded(.up))
                return Decision(allowed: false, limit: limit, remaining: 0, retryAfter: max(1, wait))
            }
            bucket.tokens -= 1
            return Decision(allowed: true, limit: limit, remaining: Int(bucket.tokens.rounded(.down)), retryAfter: 0)
        }
    }
}

/// The API's limiter: per API key.
public typealias APIRateLimiter = RateLimiter<UUID>
