import Foundation
import Hummingbird

/// Every address outside the panel and the API: the public pages of a host, the files every host serves, and the
/// probes. Routes are registered from it and links are built from it (`PanelURL` does the same for `/admin`).
public enum SiteURL: Hashable, Sendable {
    case home
    case help
    case helpArticle(String? = nil)
    /// The host's custom CSS.
    case brandStylesheet
    /// An uploaded logo or favicon, by its file name (`<sha256>.<ext>`).
    case brandAsset(String? = nil)
    case healthz, readyz
    /// The question a TLS proxy asks before it requests a certificate.
    case tlsAllowed
    /// A custom domain's HTTP challenge, under a label (`domain-challenge`, or the branded one).
    case domainChallenge(label: String, token: String? = nil)
    case metrics

    /// Prefixes that answer on any host, before the host is resolved (files, challenges).
    static let staticPrefix = "/static/"
    static let brandAssetPrefix = "/brand-assets/"
    static let wellKnownPrefix = "/.well-known/"

    private var parts: (pattern: String, values: [String?]) {
        switch self {
        case .home: ("/", [])
        case .help: ("/help", [])
        case .helpArticle(let slug): ("/help/:slug", [slug])
        case .brandStylesheet: ("/brand.css", [])
        case .brandAsset(let file): ("/brand-assets/:file", [file])
        case .healthz: ("/healthz", [])
        case .readyz: ("/readyz", [])
        case .tlsAllowed: ("/internal/tls/allowed", [])
        case .domainChallenge(let label, let token): ("/.well-known/\(label)/:token", [token])
        case .metrics: ("/metrics", [])
        }
    }

    public var pattern: RouterPath { RouterPath(parts.pattern) }

    /// The address for a link (`/help/delivery`); every parameter must have its value.
    public var path: String {
        let (pattern, values) = parts
        return URLComponent.fill(pattern, with: values, prefix: "") { preconditionFailure("\(self) needs a value for \($0)") }
    }

    /// Routes that answer on any host, whatever it resolves to (load balancers probe them by IP; a proxy asks for
    /// certificates on loopback).
    static let hostIndependentPaths: Set<String> = [SiteURL.healthz.path, SiteURL.readyz.path, SiteURL.tlsAllowed.path]
}

/// Percent-encoding of one path segment or query part: everything but RFC 3986's unreserved characters.
enum URLComponent {
    /// `text` encoded; most values (slugs, ids, numbers) need nothing and are returned as they are without a copy.
    static func encode(_ text: String) -> String {
        let plain = text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                true
            default: false
            }
        }
        return plain ? text : text.addingPercentEncoding(withAllowedCharacters: PanelURL.unreserved) ?? ""
    }

    /// `prefix` and `pattern` (`/help/:slug`, `articles/:id`) with each `:name` segment replaced, in order, by the
    /// next value, encoded; `missing` is called with the segment a value is missing for. Built in one pass.
    static func fill(_ pattern: String, with values: [String?], prefix: String, missing: (Substring) -> Never) -> String {
        guard !values.isEmpty else {
            let path = prefix + (pattern.hasPrefix("/") || pattern.isEmpty ? pattern : "/" + pattern)
            return path.isEmpty ? "/" : path
        }
        var path = prefix
        path.reserveCapacity(prefix.utf8.count + pattern.utf8.count + 32)
        var remaining = values.makeIterator()
        let slash = UInt8(ascii: "/")
        let utf8 = pattern.utf8
        var start = utf8.startIndex
        while start < utf8.endIndex {
            let end = utf8[start...].firstIndex(of: slash) ?? utf8.endIndex
            if start < end {
                let segment = pattern[start..<end]
                path += "/"
                if utf8[start] == UInt8(ascii: ":") {
                    guard let value = remaining.next() ?? nil else { missing(segment) }
                    path += encode(value)
                } else {
                    path += segment
                }
            }
            start = end < utf8.endIndex ? utf8.index(after: end) : end
        }
        return path
    }
}
