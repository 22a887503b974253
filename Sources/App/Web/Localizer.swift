import Foundation
import Yams

/// Interface text in Russian and English, from `Templates/locales/<lang>.yml` (flat `key: text` maps).
public struct Localizer: Sendable {
    public static let supported = ["ru", "en"]
    public static let fallback = "ru"
    public let catalogs: [String: [String: String]]

    public init(folder: String) throws {
        var catalogs: [String: [String: String]] = [:]
        for language in Self.supported {
            let path = folder + "/" + language + ".yml"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigurationError.message("Missing interface text catalogue \(path).")
            }
            guard let map = try Yams.load(yaml: text) as? [String: Any] else {
                throw ConfigurationError.message("\(path) must be a map of key: text.")
            }
            catalogs[language] = map.mapValues { "\($0)" }
        }
        let reference = Set(catalogs[Self.fallback]!.keys)
        for (language, catalog) in catalogs where Set(catalog.keys) != reference {
            let missing = reference.symmetricDifference(catalog.keys).sorted().joined(separator: ", ")
            throw ConfigurationError.message("Catalogue \(language).yml and \(Self.fallback).yml differ in keys: \(missing)")
        }
        self.catalogs = catalogs
    }

    /// The catalogue for a language (falling back to Russian).
    public func catalog(_ language: String) -> [String: String] {
        catalogs[language] ?? catalogs[Self.fallback]!
    }

    public func text(_ key: String, _ language: String) -> String {
        catalog(language)[key] ?? key
    }

    /// The first supported language in an `Accept-Language` header, by q-value.
    public static func language(fromAcceptLanguage header: String?) -> String? {
        guard let header else { return nil }
        var best: (String, Double)?
        for part in header.split(separator: ",") {
            let pieces = part.split(separator: ";")
            guard let first = pieces.first else { continue }
            let tag = first.trimmingCharacters(in: .whitespaces).lowercased()
            let primary = String(tag.prefix { $0 != "-" && $0 != "_" })
            var q = 1.0
            for parameter in pieces.dropFirst() {
                let kv = parameter.split(separator: "=")
                if kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces) == "q" { q = Double(kv[1]) ?? 0 }
            }
            if supported.contains(primary), q > (best?.1 ?? 0) { best = (primary, q) }
        }
        return best?.0
    }
}
