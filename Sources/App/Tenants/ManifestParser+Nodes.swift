import Foundation
import Yams

extension ManifestParser {
    // MARK: Typed access with reporting

    mutating func slugField(_ map: [String: Node], path: String, node: Node) -> String? {
        guard let slugNode = map["slug"] else {
            report(node, path, "slug is required")
            return nil
        }
        guard let slug = string(slugNode, path: path + ".slug") else { return nil }
        guard Slug.isValid(slug) else {
            report(
                slugNode, path + ".slug",
                "'\(slug)' is not a valid slug (2–40 lower-case letters, digits and single hyphens, starting with a letter)")
            return nil
        }
        return slug
    }

    mutating func requiredString(_ map: [String: Node], _ key: String, path: String, node: Node, maxLength: Int) -> String? {
        guard let field = map[key] else {
            report(node, path, "\(key) is required")
            return nil
        }
        guard let value = string(field, path: path + "." + key) else { return nil }
        if value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            report(field, path + "." + key, "must not be empty")
            return nil
        }
        if value.count > maxLength {
            report(field, path + "." + key, "is longer than \(maxLength) characters")
            return nil
        }
        return value
    }

    mutating func mapping(_ node: Node, path: String, allowed: Set<String>) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            report(node, path, "expected a mapping (key: value pairs), found \(kind(node))")
            return nil
        }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let key) = keyNode else {
                report(keyNode, path, "keys must be plain words")
                continue
            }
            let keyPath = path.isEmpty ? key.string : path + "." + key.string
            if !allowed.contains(key.string) {
                report(keyNode, keyPath, "unknown key '\(key.string)' (expected one of: \(allowed.sorted().joined(separator: ", ")))")
                continue
            }
            if result[key.string] != nil {
                report(keyNode, keyPath, "the key '\(key.string)' appears twice")
                continue
            }
            result[key.string] = value
        }
        return result
    }

    mutating func sequence(_ node: Node, path: String) -> [Node]? {
        if case .scalar = node, scalarType(node) == .null { return [] }
        guard case .sequence(let items) = node else {
            report(node, path, "expected a list, found \(kind(node))")
            return nil
        }
        return Array(items)
    }

    mutating func string(_ node: Node, path: String) -> String? {
        guard case .scalar(let scalar) = node else {
            report(node, path, "expected text, found \(kind(node))")
            return nil
        }
        guard scalarType(node) == .str else {
            report(node, path, "expected text, found \(kind(node)) '\(scalar.string)' (quote it if it is meant as text)")
            return nil
        }
        return scalar.string
    }

    func kind(_ node: Node) -> String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        case .scalar:
            switch scalarType(node) {
            case .int: "a number"
            case .float: "a number"
            case .bool: "a boolean"
            case .null: "nothing"
            default: "text"
            }
        }
    }

    /// What a scalar means: quoted and block scalars are text; plain ones may be numbers, booleans or null.
    func scalarType(_ node: Node) -> Tag.Name {
        guard case .scalar(let scalar) = node else { return .map }
        switch scalar.style {
        case .singleQuoted, .doubleQuoted, .literal, .folded: return .str
        default: break
        }
        let text = scalar.string
        if text.isEmpty || text == "~" || text.lowercased() == "null" { return .null }
        if ["true", "false"].contains(text.lowercased()) { return .bool }
        if Int(text) != nil { return .int }
        if Double(text) != nil, text.contains(where: \.isNumber) { return .float }
        return .str
    }

    mutating func report(_ node: Node?, _ path: String, _ message: String) {
        issues.append(ManifestIssue(file: file, line: node?.mark?.line, path: path, message: message))
    }
}
