import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where shops and agencies may point a language model from the panel and the API: not at this installation's own
/// network (a literal loopback, private, link-local or unspecified address, or `localhost`) unless the installation
/// allows it (`VITRINA_LLM_PRIVATE_HOSTS=allow`), since the server makes the call. `tenants.yml` is the operator's and
/// is not checked. `check` reads what is written in the address; `leadsInside` also follows a new address's host name
/// to the addresses it resolves to (when it is saved or tested). A name whose answer changes later (DNS rebinding) is
/// beyond either: an egress firewall is the installation's answer to that.
public struct LLMEndpointPolicy: Sendable {
    public let allowPrivateHosts: Bool
    /// Where host names are looked up; nil looks none up.
    public let hosts: HostAddresses?

    public init(allowPrivateHosts: Bool, hosts: HostAddresses? = nil) {
        self.allowPrivateHosts = allowPrivateHosts
        self.hosts = hosts
    }

    /// The sentence for an address on the server's own network (the API's; the panels have theirs in the locales).
    public static let insideSentence = "This address is on the server's own network; use the provider's public address."

    /// Whether the host name of `baseURL` resolves to an address on the server's own network. The stored address
    /// (`stored`: checked when it was saved, or the operator's) is not looked up again, nor is a literal address (`check`
    /// decides those); a name that does not resolve within two seconds is not refused here (the call will say so).
    public func leadsInside(_ baseURL: String?, stored: String? = nil) async -> Bool {
        guard !allowPrivateHosts, let hosts, let baseURL, baseURL != stored, let host = URL(string: baseURL)?.host,
            !host.hasPrefix("["), Self.ipv4(host) == nil, !Self.isPrivate(host: host)
        else { return false }
        return await hosts.addresses(of: host).contains { Self.isPrivate(host: $0) }
    }

    /// Refuses `baseURL` when its host is on the installation's own network (the sentence names the field).
    public func check(_ baseURL: String) throws {
        guard !allowPrivateHosts, let host = URL(string: baseURL)?.host, Self.isPrivate(host: host) else { return }
        throw BotSettingsError("llm.base_url: " + Self.insideSentence.prefix(1).lowercased() + Self.insideSentence.dropFirst())
    }

    /// Whether `host` is `localhost` (or below it) or a literal address of loopback, a private or shared range,
    /// link-local or unspecified, written any way the system's resolver reads it (`127.1`, `0x7f000001`, `[::1]`,
    /// `[::ffff:10.0.0.1]`).
    public static func isPrivate(host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        while name.hasSuffix(".") { name.removeLast() }
        if let zone = name.firstIndex(of: "%") { name = String(name[..<zone]) }
        if name.isEmpty || name == "localhost" || name.hasSuffix(".localhost") { return true }
        if let v4 = ipv4(name) { return isPrivate(v4: v4) }
        if let v6 = ipv6(name) { return isPrivate(v6: v6) }
        return false
    }

    /// An IPv4 address as the resolver reads it (`inet_aton`: one to four parts, decimal, octal or hex), host order.
    static func ipv4(_ text: String) -> UInt32? {
        guard !text.isEmpty, text.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == "x" }) else { return nil }
        var address = in_addr()
        guard inet_aton(text, &address) != 0 else { return nil }
        return UInt32(bigEndian: address.s_addr)
    }

    static func ipv6(_ text: String) -> [UInt8]? {
        guard text.contains(":") else { return nil }
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    static func isPrivate(v4 address: UInt32) -> Bool {
        let ranges: [(UInt32, Int)] = [
            (0x0000_0000, 8),  // 0.0.0.0/8: "this network"
            (0x0A00_0000, 8),  // 10/8
            (0x6440_0000, 10),  // 100.64/10: carrier-grade NAT
            (0x7F00_0000, 8),  // 127/8: loopback
            (0xA9FE_0000, 16),  // 169.254/16: link-local (cloud metadata)
            (0xAC10_0000, 12),  // 172.16/12
            (0xC0A8_0000, 16),  // 192.168/16
        ]
        return ranges.contains { base, bits in address >> (32 - bits) == base >> (32 - bits) }
    }

    static func isPrivate(v6 bytes: [UInt8]) -> Bool {
        guard bytes.count == 16 else { return true }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) { return bytes[15] <= 1 }  // :: and ::1
        // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses reach the IPv4 address.
        if bytes[0..<10].allSatisfy({ $0 == 0 }), (bytes[10] == 0xFF && bytes[11] == 0xFF) || (bytes[10] == 0 && bytes[11] == 0) {
            let v4 = bytes[12...].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            return isPrivate(v4: v4)
        }
        if bytes[0] & 0xFE == 0xFC { return true }  // fc00::/7: unique local
        if bytes[0] == 0xFE, bytes[1] & 0xC0 == 0x80 { return true }  // fe80::/10: link-local
        if bytes[0] == 0xFE, bytes[1] & 0xC0 == 0xC0 { return true }  // fec0::/10: site-local (deprecated)
        return false
    }
}
