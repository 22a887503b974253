import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The addresses a host name leads to, as the HTTP client will find them (`getaddrinfo`: /etc/hosts, then DNS), or as a
/// test's table says. Used to refuse a model address whose name leads to the server's own network.
public struct HostAddresses: Sendable {
    let lookup: @Sendable (String) async throws -> [String]
    /// Look-ups in flight, and the most allowed at once (each system look-up holds a thread until the resolver answers).
    private let inFlight = InFlight()
    let limit: Int

    public init(limit: Int = 16, lookup: @escaping @Sendable (String) async throws -> [String]) {
        self.limit = limit
        self.lookup = lookup
    }

    /// The system's resolver, each look-up on a thread of its own: a resolver that hangs holds neither a task thread
    /// nor the pool that hashes passwords.
    public static func system(limit: Int = 16) -> HostAddresses {
        HostAddresses(limit: limit) { name in
            try await withCheckedThrowingContinuation { continuation in
                Thread.detachNewThread { continuation.resume(returning: resolve(name)) }
            }
        }
    }

    /// The addresses of `name`, or none when it does not resolve within `deadline` or too many look-ups are in flight
    /// (the caller then decides without them). Returns by the deadline even when the resolver is still at work: the
    /// look-up's thread ends on its own, and its answer is dropped.
    public func addresses(of name: String, within deadline: Duration = .seconds(2)) async -> [String] {
        guard inFlight.enter(limit: limit) else { return [] }
        let (lookup, inFlight) = (self.lookup, self.inFlight)
        let work = Task {
            defer { inFlight.leave() }
            return try await lookup(name)
        }
        return (try? await Deadline.race(work, until: .now + deadline)?.get()) ?? []
    }

    /// Every address `getaddrinfo` gives for `name`, written numerically.
    static func resolve(_ name: String) -> [String] {
        var hints = addrinfo()
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var found: [String] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let entry = node {
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 {
                found.append(String(cString: text))
            }
            node = entry.pointee.ai_next
        }
        return found
    }
}

/// A count of look-ups in flight, shared by the copies of one `HostAddresses`.
private final class InFlight: Sendable {
    private let count = Mutex(0)

    func enter(limit: Int) -> Bool {
        count.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func leave() { count.withLock { $0 -= 1 } }
}
