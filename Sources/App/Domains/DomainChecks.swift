import AsyncHTTPClient
import CResolv
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The DNS look-ups domain verification needs. The system's resolver library answers in production; tests replace it.
public protocol DNSResolver: Sendable {
    /// The TXT records of `name` (each record's strings joined); empty when there are none or the name does not exist.
    func txtRecords(_ name: String) async throws -> [String]
    /// Where the CNAME record of `name` points (without the trailing dot), or `nil`.
    func canonicalName(_ name: String) async throws -> String?
    /// The IPv4 addresses `name` resolves to (following CNAMEs).
    func addresses(_ name: String) async throws -> [String]
}

public struct DNSLookupFailed: Error, Sendable {
    public let name: String
}

/// Look-ups through libresolv (`res_nquery`) on NIO's blocking-work thread pool, with a private resolver state per
/// call. `server` replaces /etc/resolv.conf's servers (a DNS server on loopback in tests).
public struct SystemDNSResolver: DNSResolver {
    public let server: DNSServerAddress?

    public init(server: DNSServerAddress? = nil) {
        self.server = server
    }

    static let txtType: Int32 = 16
    static let cnameType: Int32 = 5
    static let addressType: Int32 = 1

    public func addresses(_ name: String) async throws -> [String] {
        try await query(name, type: Self.addressType)
    }

    public func txtRecords(_ name: String) async throws -> [String] {
        try await query(name, type: Self.txtType)
    }

    public func canonicalName(_ name: String) async throws -> String? {
        try await query(name, type: Self.cnameType).first.map { $0.hasSuffix(".") ? String($0.dropLast()) : $0 }
    }

    func query(_ name: String, type: Int32) async throws -> [String] {
        let server = self.server
        return try await NIOThreadPool.singleton.runIfActive {
            var buffer = [CChar](repeating: 0, count: 16_384)
            let count = buffer.withUnsafeMutableBufferPointer { output in
                if let server {
                    cresolv_query(name, type, server.address, Int32(server.port), output.baseAddress, output.count)
                } else {
                    cresolv_query(name, type, nil, 0, output.baseAddress, output.count)
                }
            }
            guard count >= 0 else { throw DNSLookupFailed(name: name) }
            let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { String($0) }
        }
    }
}

/// Fetches the HTTP challenge from a domain: what the domain's server answers at the challenge path.
public protocol ChallengeFetcher: Sendable {
    /// The body (at most 1 KB) of `GET http://<host><path>` if it answered 200, else `nil`. Redirects are not followed.
    func fetch(host: String, path: String) async -> String?
}

/// The HTTP check over the network: the domain's name is resolved here and only a public IPv4 address is contacted
/// (never loopback, private or link-local ones: the check must not become a way to reach internal services), with
/// redirects refused. `connectTo` sends the request to a fixed address instead (tests: the server on loopback).
public struct HTTPChallengeFetcher: ChallengeFetcher {
    let client: HTTPClient
    let resolver: any DNSResolver
    let connectTo: (address: String, port: Int)?
    let timeout: Duration

    /// `client` is the app's shared one, which never follows a redirect.
    public init(
        client: HTTPClient, resolver: any DNSResolver, connectTo: (address: String, port: Int)? = nil, timeout: Duration = .seconds(5)
    ) {
        self.client = client
        self.resolver = resolver
        self.connectTo = connectTo
        self.timeout = timeout
    }

    public func fetch(host: String, path: String) async -> String? {
        let target: String
        if let connectTo {
            target = "\(connectTo.address):\(connectTo.port)"
        } else {
            guard let address = try? await resolver.addresses(host).first(where: Self.isPublicIPv4) else { return nil }
            target = address
        }
        var request = HTTPClientRequest(url: "http://\(target)\(path)")
        request.headers.replaceOrAdd(name: "Host", value: host)
        request.headers.replaceOrAdd(name: "User-Agent", value: "domain-check")
        do {
            let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
            let response = try await client.execute(request, timeout: .nanoseconds(nanoseconds))
            guard response.status == .ok else { return nil }
            let body = try await response.body.collect(upTo: 1024)
            return String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            return nil
        }
    }

    /// A unicast IPv4 address on the public internet (not this host, a private network, CGNAT, link-local,
    /// multicast or reserved space).
    static func isPublicIPv4(_ text: String) -> Bool {
        let octets = text.split(separator: ".").compactMap { UInt8($0) }
        guard octets.count == 4 else { return false }
        switch (octets[0], octets[1]) {
        case (0, _), (10, _), (127, _), (169, 254), (192, 168): return false
        case (100, 64...127), (172, 16...31), (198, 18...19): return false
        case (192, 0) where octets[2] == 0 || octets[2] == 2: return false
        case (224...255, _): return false
        default: return true
        }
    }
}

/// The challenge's names. The DNS label and the HTTP path carry the platform's name only for partners that show
/// "powered by"; a white-label partner's clients see neutral names. Both are accepted for every domain.
public enum DomainChallenge {
    public static let brandedLabel = "_vitrina-challenge"
    public static let neutralLabel = "_domain-challenge"

    public static func label(poweredBy: Bool) -> String { poweredBy ? brandedLabel : neutralLabel }

    /// `/.well-known/<label without the underscore>/<token>`.
    public static func path(label: String, token: String) -> String {
        SiteURL.domainChallenge(label: String(label.dropFirst()), token: token).path
    }
}

/// What one verification found.
public struct DomainCheckResult: Sendable, Equatable {
    /// The TXT record holds the token.
    public var txtFound = false
    /// Where the domain's CNAME points, if it has one.
    public var canonicalName: String?
    /// The CNAME points at the installation.
    public var cnameCorrect = false
    /// The domain answered the HTTP challenge with the token (it reaches this installation).
    public var httpAnswered = false
    /// DNS could not be asked (timeout, server failure): the result says nothing about the records.
    public var dnsFailed = false

    public var verified: Bool { txtFound || httpAnswered }

    public init(
        txtFound: Bool = false, canonicalName: String? = nil, cnameCorrect: Bool = false, httpAnswered: Bool = false,
        dnsFailed: Bool = false
    ) {
        self.txtFound = txtFound
        self.canonicalName = canonicalName
        self.cnameCorrect = cnameCorrect
        self.httpAnswered = httpAnswered
        self.dnsFailed = dnsFailed
    }

    /// A stored `summary` as its parts (`txt`, `cname`, `http` → what was found).
    public static func parts(of summary: String) -> [String: String] {
        var parts: [String: String] = [:]
        for piece in summary.split(separator: ";") {
            let pair = piece.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { parts[String(pair[0])] = String(pair[1]) }
        }
        return parts
    }

    /// The result a stored `summary` describes.
    public init?(summary: String) {
        let parts = Self.parts(of: summary)
        guard let txt = parts["txt"], let cname = parts["cname"], let http = parts["http"] else { return nil }
        self.init(
            txtFound: txt == "ok", canonicalName: cname == "missing" ? nil : "", cnameCorrect: cname == "ok", httpAnswered: http == "ok",
            dnsFailed: txt == "error")
    }
    public var method: String? { txtFound ? "dns" : httpAnswered ? "http" : nil }

    /// Stored in `platform.domains.check_result`; the panel turns it into sentences.
    public var summary: String {
        [
            "txt=\(dnsFailed ? "error" : txtFound ? "ok" : "missing")",
            "cname=\(cnameCorrect ? "ok" : canonicalName == nil ? "missing" : "other")",
            "http=\(httpAnswered ? "ok" : "failed")",
        ].joined(separator: ";")
    }
}

/// Checks a domain's DNS records and HTTP challenge.
public struct DomainVerifier: Sendable {
    public let resolver: any DNSResolver
    public let fetcher: any ChallengeFetcher
    /// The host custom domains should point at with a CNAME.
    public let cnameTarget: String

    public init(resolver: any DNSResolver, fetcher: any ChallengeFetcher, cnameTarget: String) {
        self.resolver = resolver
        self.fetcher = fetcher
        self.cnameTarget = cnameTarget
    }

    /// `acceptHTTP`: whether answering the HTTP challenge proves control of this name (see `DomainStore`).
    public func check(host: String, token: String, poweredBy: Bool, acceptHTTP: Bool = true) async -> DomainCheckResult {
        var result = DomainCheckResult()
        do {
            // The branded label is asked only for brands that show the platform's name: the question itself shows up
            // in the domain owner's DNS logs.
            for label in poweredBy ? [DomainChallenge.neutralLabel, DomainChallenge.brandedLabel] : [DomainChallenge.neutralLabel] {
                let records = try await resolver.txtRecords("\(label).\(host)")
                if records.contains(where: { $0.trimmingCharacters(in: .whitespaces) == token }) {
                    result.txtFound = true
                    break
                }
            }
            if let target = try await resolver.canonicalName(host) {
                result.canonicalName = target.lowercased()
                result.cnameCorrect = target.lowercased() == cnameTarget.lowercased()
            }
        } catch {
            result.dnsFailed = true
        }
        if acceptHTTP {
            let path = DomainChallenge.path(label: DomainChallenge.label(poweredBy: poweredBy), token: token)
            result.httpAnswered = await fetcher.fetch(host: host, path: path) == token
        }
        return result
    }
}
