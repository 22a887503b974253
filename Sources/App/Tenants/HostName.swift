import Foundation

/// Host names as Vitrina compares them: lower-case, no port, no trailing dot, IDNA (punycode) for non-ASCII labels.
public enum HostName {
    /// Normalises a `Host` header or a configured domain; `nil` when it is not a usable host name.
    public static func normalize(_ raw: some StringProtocol) -> String? {
        var host = Substring(raw).trimmingCharacters(in: .whitespaces)[...]
        if host.hasPrefix("[") {  // IPv6 literal, with or without a port
            guard let close = host.firstIndex(of: "]") else { return nil }
            return String(host[...close]).lowercased()
        }
        if let colon = host.lastIndex(of: ":") {
            let port = host[host.index(after: colon)...]
            guard port.allSatisfy(\.isASCIIDigit) else { return nil }
            host = host[..<colon]
        }
        if host.hasSuffix(".") { host = host.dropLast() }
        guard !host.isEmpty, host.utf8.count <= 1024 else { return nil }
        if host.utf8.allSatisfy({ $0 < 0x80 }) {
            let lowered = host.lowercased()
            return isValidASCII(lowered) ? lowered : nil
        }
        var labels: [String] = []
        for label in host.split(separator: ".", omittingEmptySubsequences: false) {
            // Full-width and ideographic dots separate labels in IDNA too.
            for part in label.split(whereSeparator: { $0 == "\u{3002}" || $0 == "\u{FF0E}" || $0 == "\u{FF61}" }) {
                let mapped = String(part).precomposedStringWithCanonicalMapping.lowercased()
                if mapped.utf8.allSatisfy({ $0 < 0x80 }) {
                    labels.append(mapped)
                } else {
                    guard let encoded = Punycode.encode(mapped) else { return nil }
                    labels.append("xn--" + encoded)
                }
            }
        }
        let joined = labels.joined(separator: ".")
        return isValidASCII(joined) ? joined : nil
    }

    /// Whether an already lower-case ASCII host has valid labels (letters, digits, hyphens; 1–63 each; 253 in all).
    static func isValidASCII(_ host: String) -> Bool {
        guard host.utf8.count <= 253 else { return false }
        var labelLength = 0
        var previous: UInt8 = UInt8(ascii: ".")
        for byte in host.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                labelLength += 1
            case UInt8(ascii: "-"):
                if previous == UInt8(ascii: ".") { return false }
                labelLength += 1
            case UInt8(ascii: "."):
                if labelLength == 0 || previous == UInt8(ascii: "-") { return false }
                labelLength = 0
            default:
                return false
            }
            if labelLength > 63 { return false }
            previous = byte
        }
        return labelLength > 0 && previous != UInt8(ascii: "-")
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

/// RFC 3492 Punycode encoder, for IDNA host names.
enum Punycode {
    private static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700, initialBias = 72, initialN = 128

    static func encode(_ input: String) -> String? {
        let scalars = input.unicodeScalars.map { Int($0.value) }
        var output = scalars.filter { $0 < 0x80 }.map { Character(Unicode.Scalar(UInt8($0))) }
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 { output.append("-") }
        var n = initialN, delta = 0, bias = initialBias
        while handled < scalars.count {
            guard let m = scalars.filter({ $0 >= n }).min() else { return nil }
            let (product, overflow) = (m - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflow else { return nil }
            delta += product
            n = m
            for c in scalars {
                if c < n { delta += 1 }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return String(output)
    }

    private static func digit(_ d: Int) -> Character {
        Character(Unicode.Scalar(UInt8(d < 26 ? d + 97 : d + 22)))
    }

    private static func adapt(_ delta: Int, _ numPoints: Int, _ firstTime: Bool) -> Int {
        var delta = firstTime ? delta / damp : delta / 2
        delta += delta / numPoints
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }
}
