import App
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import App

/// Logo and favicon uploads: the type comes from the bytes, PNG and ICO are checked for structure, SVG is rebuilt from
/// an allow-list, 512 KB is the limit, and stored images are served by content hash with a year's cache.
@Suite struct BrandUploadTests {
    static let password = "correct-horse-battery"

    /// A 1×1 PNG's structure (the checker does not decompress, so the chunk CRCs are not checked).
    static func png(width: UInt32 = 1, height: UInt32 = 1, padding: Int = 0) -> [UInt8] {
        func be(_ value: UInt32) -> [UInt8] {
            [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        }
        var bytes = BrandImage.pngSignature
        bytes += be(13) + Array("IHDR".utf8) + be(width) + be(height) + [8, 6, 0, 0, 0] + [0, 0, 0, 0]
        let data = [UInt8](repeating: 0x78, count: 12 + padding)
        bytes += be(UInt32(data.count)) + Array("IDAT".utf8) + data + [0, 0, 0, 0]
        bytes += be(0) + Array("IEND".utf8) + [0xAE, 0x42, 0x60, 0x82]
        return bytes
    }

    static let ico: [UInt8] = [0, 0, 1, 0, 1, 0, 16, 16, 0, 0, 1, 0, 32, 0, 4, 0, 0, 0, 22, 0, 0, 0] + [1, 2, 3, 4]

    static let hostileSVG = """
        <?xml version="1.0" encoding="UTF-8"?>
        <!-- exported -->
        <svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 40 40" onload="alert(1)">
          <script>alert(document.cookie)</script>
          <title>Tea &amp; Co</title>
          <foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>
          <a xlink:href="javascript:alert(2)"><circle cx="5" cy="5" r="4"/></a>
          <rect width="40" height="40" rx="8" fill="#2e7d32" style="fill:url(https://evil.example/x)"/>
          <path d="M10 20h20" stroke="#fff" stroke-width="4" STYLE="stroke-linecap:round"/>
          <use href="https://evil.example/sprite.svg#a"/>
          <linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient>
          <circle cx="20" cy="20" r="3" fill="url(#g)" onclick="steal()"/>
        </svg>
        """

    @Test func imagesAreRecognisedByTheirBytesAndChecked() throws {
        #expect(try BrandImage.check(Self.png(), allowed: [.png, .svg]).get().kind == .png)
        #expect(try BrandImage.check(Self.ico, allowed: [.png, .svg, .ico]).get().kind == .ico)
        // An icon is not a logo; a JPEG, a GIF and a text file are none of them, whatever their names say.
        #expect(BrandImage.check(Self.ico, allowed: [.png, .svg]) == .failure(.wrongType))
        #expect(
            BrandImage.check([0xFF, 0xD8, 0xFF, 0xE0] + [UInt8](repeating: 0, count: 100), allowed: [.png, .svg, .ico])
                == .failure(.wrongType))
        #expect(BrandImage.check(Array("GIF89a......".utf8), allowed: [.png, .svg, .ico]) == .failure(.wrongType))
        #expect(BrandImage.check(Array("hello".utf8), allowed: [.png, .svg]) == .failure(.wrongType))
        #expect(BrandImage.check([], allowed: [.png]) == .failure(.empty))
        // Structure: a PNG cut short, a huge declared size, an icon pointing outside itself.
        #expect(BrandImage.check(Array(Self.png().dropLast(8)), allowed: [.png]) == .failure(.corrupt))
        #expect(BrandImage.check(Self.png(width: 100_000), allowed: [.png]) == .failure(.corrupt))
        var brokenIcon = Self.ico
        brokenIcon[18] = 200
        #expect(BrandImage.check(brokenIcon, allowed: [.ico]) == .failure(.corrupt))
        // 512 KB is the limit, checked before anything else.
        #expect(BrandImage.check(Self.png(padding: BrandImage.maximumBytes), allowed: [.png]) == .failure(.tooLarge))
        #expect((try? BrandImage.check(Self.png(padding: 400_000), allowed: [.png]).get()) != nil)
    }

    @Test func svgIsRebuiltWithoutScriptsHandlersOrOutsideReferences() throws {
        let image = try BrandImage.check(Array(Self.hostileSVG.utf8), allowed: [.png, .svg]).get()
        let svg = String(decoding: image.bytes, as: UTF8.self)
        for forbidden in ["<script", "alert", "onload", "onclick", "foreignObject", "javascript", "evil.example", "<?xml", "<!--", "<a"] {
            #expect(!svg.contains(forbidden), "\(forbidden) survived: \(svg)")
        }
        // What a logo needs stays.
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\""))
        #expect(svg.contains("viewBox=\"0 0 40 40\""))
        #expect(svg.contains("<title>Tea &amp; Co</title>"))
        #expect(svg.contains("<path d=\"M10 20h20\" stroke=\"#fff\" stroke-width=\"4\" style=\"stroke-linecap:round\"/>"))
        #expect(svg.contains("<linearGradient id=\"g\">") && svg.contains("fill=\"url(#g)\""))
        // Document types and entities (billion laughs, external files) and malformed markup refuse the file.
        let entity = "<?xml version=\"1.0\"?><!DOCTYPE svg [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><svg>&x;</svg>"
        #expect(BrandImage.check(Array(entity.utf8), allowed: [.svg]) == .failure(.unsafeSVG))
        #expect(BrandImage.check(Array("<svg><g></svg>".utf8), allowed: [.svg]) == .failure(.corrupt))
        #expect(BrandImage.check(Array("<svg><![CDATA[<script>x</script>]]></svg>".utf8), allowed: [.svg]) == .failure(.unsafeSVG))
        #expect(BrandImage.check(Array("<svg><text>&nbsp;</text></svg>".utf8), allowed: [.svg]) == .failure(.unsafeSVG))
        // CSS that loads something without url(), and shapes that only slow a browser or the sanitiser down.
        let imageSet = try BrandImage.check(
            Array("<svg><rect style=\"mask-image:image-set('https://x.example/y' 1x)\" fill=\"#000\"/></svg>".utf8), allowed: [.svg]
        ).get()
        #expect(!String(decoding: imageSet.bytes, as: UTF8.self).contains("x.example"))
        let deep = "<svg>" + String(repeating: "<g>", count: 300) + String(repeating: "</g>", count: 300) + "</svg>"
        #expect(BrandImage.check(Array(deep.utf8), allowed: [.svg]) == .failure(.unsafeSVG))
        let dropped = "<svg>" + String(repeating: "<foo>", count: 200) + String(repeating: "</foo>", count: 200) + "<rect/></svg>"
        #expect(String(decoding: try BrandImage.check(Array(dropped.utf8), allowed: [.svg]).get().bytes, as: UTF8.self).contains("<rect/>"))
        let uses = "<svg>" + String(repeating: "<use href=\"#a\"/>", count: 101) + "</svg>"
        #expect(BrandImage.check(Array(uses.utf8), allowed: [.svg]) == .failure(.unsafeSVG))
        // xlink:href kept means the xlink namespace is declared.
        let linked = try BrandImage.check(Array("<svg><use xlink:href=\"#a\"/></svg>".utf8), allowed: [.svg]).get()
        #expect(String(decoding: linked.bytes, as: UTF8.self).contains("xmlns:xlink=\"http://www.w3.org/1999/xlink\""))
    }

    @Test func aPartnerUploadsALogoAndEveryPageServesItByHash() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north", domains: ["panel.north.test"], branding: Branding(name: "North Assist"))
            try await env.makeTenant("bolt", partner: "north")
            try await env.makeUser("olivia@north.test", role: .partnerOwner, partner: "north")
            try await env.services.directory.reload()
            try await env.withApp { client throws in
                var partner = Browser(client, host: "panel.north.test")
                try await partner.signIn("olivia@north.test", Self.password)
                try await partner.get("/admin/branding")
                let saved = try await partner.postMultipart(
                    "/admin/branding", ["name": "North Assist", "primary_color": "#0b5fff"],
                    files: [
                        "logo_file": ("logo.svg", "image/svg+xml", Array(Self.hostileSVG.utf8)),
                        "favicon_file": ("favicon.ico", "image/vnd.microsoft.icon", Self.ico),
                        "logo_dark_file": ("", "application/octet-stream", []),
                    ])
                #expect(saved.status == .seeOther)
                let json = try #require(
                    try await env.scalar("SELECT branding::text FROM platform.partners WHERE slug = 'north'", as: String.self))
                let brand = Branding.fromJSON(json)
                let logo = try #require(brand.logoURL)
                #expect(logo.hasPrefix("/brand-assets/") && logo.hasSuffix(".svg") && logo.count == "/brand-assets/".count + 64 + 4)
                #expect(brand.faviconURL?.hasSuffix(".ico") == true)
                #expect(brand.logoDarkURL == nil)

                // The partner's panel and its shop's help centre show it; any host serves it, cached for a year.
                #expect(try await partner.get("/admin").text.contains(logo))
                let help = try await client.execute(
                    uri: "/help", method: .get, headers: [HTTPField.Name("X-Forwarded-Host")!: "bolt.vitrina.test"], body: nil)
                #expect(String(buffer: help.body).contains(logo) && String(buffer: help.body).contains(brand.faviconURL ?? "-"))
                let served = try await client.execute(uri: logo, method: .get, headers: [:], body: nil)
                #expect(served.status == .ok)
                #expect(served.headers[.contentType] == "image/svg+xml")
                #expect(served.headers[.cacheControl] == "public, max-age=31536000, immutable")
                #expect(served.headers[.contentSecurityPolicy]?.contains("sandbox") == true)
                #expect(!String(buffer: served.body).contains("script"))
                let etag = try #require(served.headers[.eTag])
                let again = try await client.execute(uri: logo, method: .get, headers: [.ifNoneMatch: etag], body: nil)
                #expect(again.status == .notModified)
                #expect(
                    try await client.execute(
                        uri: logo.replacingOccurrences(of: ".svg", with: ".png"), method: .get, headers: [:], body: nil
                    ).status == .notFound)
                let traversal = try await client.execute(uri: "/brand-assets/..%2F..%2Fetc%2Fpasswd", method: .get, headers: [:], body: nil)
                #expect(traversal.status == .badRequest || traversal.status == .notFound, "\(traversal.status)")

                // Oversized and wrong files come back with the error beside the field and the form as typed; the
                // stored brand is untouched.
                try await partner.get("/admin/branding")
                let big = try await partner.postMultipart(
                    "/admin/branding", ["name": "Renamed", "logo_url": logo],
                    files: ["logo_file": ("big.png", "image/png", Self.png(padding: 600_000))])
                #expect(big.status == .unprocessableContent)
                #expect(big.text.contains("512 КБ") && big.text.contains("value=\"Renamed\""))
                let wrong = try await partner.postMultipart(
                    "/admin/branding", ["name": "Renamed"],
                    files: ["favicon_file": ("photo.png", "image/png", [0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0, 0])])
                #expect(wrong.status == .unprocessableContent && wrong.text.contains("ICO"))
                #expect(
                    try await env.scalar("SELECT branding->>'name' FROM platform.partners WHERE slug = 'north'", as: String.self)
                        == "North Assist")
                // A body far over the limit is refused before it is read.
                let huge = try await partner.postMultipart(
                    "/admin/branding", [:], files: ["logo_file": ("huge.png", "image/png", [UInt8](repeating: 1, count: 3 << 20))])
                #expect(huge.status == .contentTooLarge)
            }
        }
    }
}
