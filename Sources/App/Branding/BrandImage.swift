import Crypto
import Foundation

/// An uploaded logo or favicon, checked: the type comes from the bytes (never from the file name or the browser's
/// claim), PNG and ICO are checked for their structure, and SVG is rebuilt from an allow-list of elements and
/// attributes, so no script, event handler, external reference or style sheet survives.
public struct BrandImage: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case png, svg, ico

        public var contentType: String {
            switch self {
            case .png: "image/png"
            case .svg: "image/svg+xml"
            case .ico: "image/x-icon"
            }
        }

        public init?(contentType: String) {
            switch contentType {
            case "image/png": self = .png
            case "image/svg+xml": self = .svg
            case "image/x-icon": self = .ico
            default: return nil
            }
        }
    }

    /// Why an upload is refused (each has an interface-text key).
    public enum Problem: String, Error, Sendable {
        case empty = "upload_error_empty"
        case tooLarge = "upload_error_too_large"
        case wrongType = "upload_error_type"
        case corrupt = "upload_error_corrupt"
        case unsafeSVG = "upload_error_svg"
    }

    public static let maximumBytes = 512 * 1024

    public let kind: Kind
    public let bytes: [UInt8]

    /// The SHA-256 of the stored bytes, in hex: the file's name in its URL.
    public var sha256: String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }

    public var url: String { SiteURL.brandAsset("\(sha256).\(kind.rawValue)").path }

    /// Checks an upload. `allowed` lists the kinds this field takes (logos: PNG and SVG; favicons also ICO).
    public static func check(_ data: [UInt8], allowed: Set<Kind>) -> Result<BrandImage, Problem> {
        if data.isEmpty { return .failure(.empty) }
        if data.count > maximumBytes { return .failure(.tooLarge) }
        guard let kind = sniff(data), allowed.contains(kind) else { return .failure(.wrongType) }
        switch kind {
        case .png:
            return isWellFormedPNG(data) ? .success(BrandImage(kind: .png, bytes: data)) : .failure(.corrupt)
        case .ico:
            return isWellFormedICO(data) ? .success(BrandImage(kind: .ico, bytes: data)) : .failure(.corrupt)
        case .svg:
            guard let text = String(validating: data, as: UTF8.self) else { return .failure(.corrupt) }
            switch SVGSanitizer.sanitize(text) {
            case .success(let clean):
                let bytes = Array(clean.utf8)
                return bytes.count <= maximumBytes ? .success(BrandImage(kind: .svg, bytes: bytes)) : .failure(.tooLarge)
            case .failure(let problem): return .failure(problem)
            }
        }
    }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The type from the first bytes.
    static func sniff(_ data: [UInt8]) -> Kind? {
        if data.starts(with: pngSignature) { return .png }
        if data.starts(with: [0, 0, 1, 0]) { return .ico }
        // SVG: text whose first tag (after an optional BOM, XML declaration, comments and white space) is <svg.
        var text = String(decoding: data.prefix(4096), as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let trimmed = text.drop(while: { $0.isWhitespace })
        guard trimmed.hasPrefix("<") else { return nil }
        return trimmed.range(of: "<svg", options: .caseInsensitive) != nil ? .svg : nil
    }

    /// Signature, an IHDR chunk of sane dimensions first, chunks that fit, and IEND last.
    static func isWellFormedPNG(_ data: [UInt8]) -> Bool {
        func uint32(_ at: Int) -> Int { data[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        guard data.count >= 8 + 25 + 12 else { return false }
        var offset = 8
        var first = true
        while offset + 12 <= data.count {
            let length = uint32(offset)
            let type = String(decoding: data[offset + 4..<offset + 8], as: UTF8.self)
            guard length <= data.count, offset + 12 + length <= data.count else { return false }
            if first {
                guard type == "IHDR", length == 13 else { return false }
                let width = uint32(offset + 8)
                let height = uint32(offset + 12)
                guard (1...8192).contains(width), (1...8192).contains(height) else { return false }
                first = false
            }
            offset += 12 + length
            if type == "IEND" { return offset == data.count || data[offset...].allSatisfy { $0 == 0 } }
        }
        return false
    }

    /// ICONDIR with 1–64 entries, each pointing at image data inside the file.
    static func isWellFormedICO(_ data: [UInt8]) -> Bool {
        func uint16(_ at: Int) -> Int { Int(data[at]) | Int(data[at + 1]) << 8 }
        func uint32(_ at: Int) -> Int { uint16(at) | uint16(at + 2) << 16 }
        guard data.count >= 6 + 16, uint16(0) == 0, uint16(2) == 1 else { return false }
        let count = uint16(4)
        guard (1...64).contains(count), data.count >= 6 + 16 * count else { return false }
        for index in 0..<count {
            let entry = 6 + 16 * index
            let size = uint32(entry + 8)
            let offset = uint32(entry + 12)
            guard size > 0, offset >= 6 + 16 * count, offset + size <= data.count else { return false }
        }
        return true
    }
}
