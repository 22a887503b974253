import Foundation
import Hummingbird
import NIOCore
import PostgresNIO
import Synchronization

/// Uploaded logos and favicons: stored once per content (the SHA-256 is the key and the file name), kept in memory
/// after the first read, since every page of a brand links its logo.
public final class BrandAssetStore: Sendable {
    let database: Database
    private let cache = Mutex<(entries: [String: BrandImage], bytes: Int)>((entries: [:], bytes: 0))
    /// How much image data the cache holds before it starts over (a brand's images are a few kilobytes each).
    static let cacheBytes = 32 << 20

    public init(database: Database) {
        self.database = database
    }

    /// Stores a checked image (a no-op when the same bytes are already stored) and returns its URL.
    public func store(_ image: BrandImage) async throws -> String {
        try await database.execute(
            """
            INSERT INTO platform.brand_assets (sha256, content_type, bytes)
            VALUES (\(image.sha256), \(image.kind.contentType), \(ByteBuffer(bytes: image.bytes)))
            ON CONFLICT (sha256) DO NOTHING
            """)
        return image.url
    }

    public func find(sha256: String) async throws -> BrandImage? {
        if let cached = cache.withLock({ $0.entries[sha256] }) { return cached }
        let rows = try await database.values(
            (String, ByteBuffer).self, "SELECT content_type, bytes FROM platform.brand_assets WHERE sha256 = \(sha256)")
        for (type, bytes) in rows {
            guard let kind = BrandImage.Kind(contentType: type) else { return nil }
            let image = BrandImage(kind: kind, bytes: Array(buffer: bytes))
            cache.withLock { cache in
                if cache.bytes + image.bytes.count > Self.cacheBytes { cache = (entries: [:], bytes: 0) }
                cache.entries[sha256] = image
                cache.bytes += image.bytes.count
            }
            return image
        }
        return nil
    }
}

/// `GET /brand-assets/<sha256>.<png|svg|ico>` on any host: cached for a year (a new upload has a new name). SVG goes
/// out with a policy that forbids scripts and loading anything, even if opened on its own.
public struct BrandAssetController: Sendable {
    let store: BrandAssetStore

    public init(store: BrandAssetStore) {
        self.store = store
    }

    public func addRoutes(to router: Router<AppRequestContext>) {
        router.get(SiteURL.brandAsset().pattern, use: serve)
    }

    @Sendable func serve(request: Request, context: AppRequestContext) async throws -> Response {
        let file = context.parameters.get("file") ?? ""
        let parts = file.split(separator: ".")
        guard parts.count == 2, parts[0].utf8.count == 64, parts[0].utf8.allSatisfy({ $0.isHexDigit && !(65...70).contains($0) }),
            let kind = BrandImage.Kind(rawValue: String(parts[1])),
            let image = try await store.find(sha256: String(parts[0])), image.kind == kind
        else { throw HTTPError(.notFound) }
        var headers: HTTPFields = [
            .contentType: kind.contentType,
            .cacheControl: "public, max-age=31536000, immutable",
            .eTag: "\"\(parts[0])\"",
        ]
        if kind == .svg {
            headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
        }
        if request.headers[.ifNoneMatch] == "\"\(parts[0])\"" {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: image.bytes)))
    }
}
