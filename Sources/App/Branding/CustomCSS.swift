import Crypto
import Foundation

/// A brand's own CSS, checked before it is stored and served as a separate stylesheet (`/brand.css`), never inlined.
///
/// Refused rather than silently altered: anything that could end the stylesheet or pull in code or other sheets
/// (`<`, `@import`, `expression(`, `javascript:`, bindings, `url()` other than https or an inline image) and CSS
/// escapes (which could spell any of those).
public enum CustomCSS {
    public static let maximumBytes = 20_000

    /// Why the CSS is refused, or `nil` when it is acceptable.
    public static func problem(_ css: String) -> String? {
        if css.utf8.count > maximumBytes { return "is longer than \(maximumBytes / 1000) KB" }
        if css.contains("<") { return "must not contain '<' (no HTML, no </style>)" }
        if css.contains("\\") { return "must not contain backslash escapes" }
        // Comments could split a keyword: check the text without them.
        let text = css.replacingOccurrences(of: #"/\*[\s\S]*?\*/"#, with: "", options: .regularExpression).lowercased()
        for word in ["@import", "expression(", "javascript:", "vbscript:", "-moz-binding", "behavior:", "@charset"]
        where text.contains(word) {
            return "must not use \(word)"
        }
        var rest = text[...]
        while let range = rest.range(of: "url(") {
            let argument = rest[range.upperBound...].drop { $0 == " " || $0 == "\"" || $0 == "'" }
            if !(argument.hasPrefix("https://") || argument.hasPrefix("data:image/png") || argument.hasPrefix("data:image/jpeg")) {
                return "may use url() only with https:// addresses"
            }
            rest = rest[range.upperBound...]
        }
        return nil
    }

    /// A short content hash for the stylesheet's URL (browsers cache it for a year).
    public static func version(_ css: String) -> String {
        String(SHA256.hash(data: Array(css.utf8)).map { String(format: "%02x", $0) }.joined().prefix(12))
    }
}
