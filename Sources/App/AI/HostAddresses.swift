import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The addresses a host name leads to, as the HTTP client will find them (`getaddrinfo`: /etc/hosts, then DNS), or as a
/// test's resolver says. Used to refuse a model address whose name leads to the server's own network.
public struct HostAddresses: Sendable {
    let lookup: @Sendable (String) async throws -> [String]

    public init(lookup: @escaping @Sendable (String) async throws -> [String]) {
        self.lookup = lookup
    }

    /// The system's resolver, each look-up on a thread of its own: a resolver that hangs holds neither a task thread
    /// nor the pool that hashes passwords.
    public static let system = HostAddresses { name in
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: resolve(name)) }
        }
    }

    /// The addresses of `name`, or none when it does not resolve within `deadline` (the caller then decides without them).
    public func addresses(of name: String, within deadline: Duration = .seconds(2)) async -> [String] {
        let lookup = self.lookup
        return await withTaskGroup(of: [String]?.self) { group in
            group.addTask { try? await lookup(name) }
            group.addTask {
                try? await Task.sleep(for: deadline)
                return nil
            }
            defer { group.cancelAll() }
            return (await group.next() ?? nil) ?? []
        }
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
