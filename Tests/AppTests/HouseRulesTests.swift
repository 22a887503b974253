import Foundation
import Testing

@testable import App

/// The rules the codebase keeps, checked on its sources: they hold by construction only as long as nobody breaks them.
@Suite("House rules")
struct HouseRulesTests {
    static let sources = TestDatabase.packageRoot + "/Sources"

    /// Every Swift file under `Sources/`, with its path below it and its text.
    static func swiftFiles() throws -> [(path: String, text: String)] {
        let enumerator = FileManager.default.enumerator(atPath: sources)
        var files: [(String, String)] = []
        while let path = enumerator?.nextObject() as? String {
            guard path.hasSuffix(".swift") else { continue }
            files.append((path, try String(contentsOfFile: sources + "/" + path, encoding: .utf8)))
        }
        return files.sorted { $0.0 < $1.0 }
    }

    /// The text without `//` comments (so that prose about a controller is not taken for a call to it).
    static func code(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            guard let range = line.range(of: "//") else { return String(line) }
            return String(line[..<range.lowerBound])
        }.joined(separator: "\n")
    }

    @Test func noSwiftFileIsLongerThan400Lines() throws {
        let long = try Self.swiftFiles().filter { $0.text.split(separator: "\n", omittingEmptySubsequences: false).count > 400 }
        #expect(long.map(\.path) == [])
    }

    /// Panel paths are written once, in `PanelURL`; everything else builds them from it (templates get built links).
    @Test func panelPathsAreWrittenOnlyInTheAddressType() throws {
        let offenders = try Self.swiftFiles().filter {
            !$0.path.hasSuffix("Panel/PanelURL.swift") && Self.code($0.text).contains("\"/admin")
        }
        #expect(offenders.map(\.path) == [])
        let templates = TestDatabase.packageRoot + "/Templates"
        let enumerator = FileManager.default.enumerator(atPath: templates)
        var inTemplates: [String] = []
        while let path = enumerator?.nextObject() as? String {
            guard path.hasSuffix(".mustache") else { continue }
            if try String(contentsOfFile: templates + "/" + path, encoding: .utf8).contains("\"/admin") { inTemplates.append(path) }
        }
        #expect(inTemplates == [])
    }

    /// What two areas share lives in a store or a service: a controller never names another controller.
    @Test func noControllerCallsAnotherController() throws {
        let files = try Self.swiftFiles()
        let controllers = Set(
            files.compactMap { file in
                file.path.split(separator: "/").last.map { String($0.dropLast(".swift".count)) }
            }.filter { $0.hasSuffix("Controller") })
        var calls: [String] = []
        for file in files {
            guard let name = file.path.split(separator: "/").last.map({ String($0.dropLast(".swift".count)) }),
                controllers.contains(name)
            else { continue }
            let code = Self.code(file.text)
            for other in controllers where other != name && code.contains(other) {
                calls.append("\(name) → \(other)")
            }
        }
        #expect(calls == [])
    }

    /// Only the door sets a search path; every other SQL is schema-qualified platform SQL or runs inside the door.
    @Test func onlyTheDoorTouchesTheSearchPath() throws {
        let offenders = try Self.swiftFiles().filter {
            Self.code($0.text).contains("search_path")
                && !["App/Database/TenantDatabase.swift", "App/Database/DatabaseURL.swift"].contains($0.path)
        }
        #expect(offenders.map(\.path) == [])
    }

    /// The composition root builds every long-lived thing: nothing keeps a global of its own.
    @Test func noGlobalsOutsideTheCompositionRoot() throws {
        var globals: [String] = []
        for file in try Self.swiftFiles() where file.path.hasPrefix("App/") {
            for line in Self.code(file.text).split(separator: "\n") {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                // A `static let` holding a live object (a client, a pool, a cache) would be a global.
                if trimmed.contains("static let"), trimmed.contains("Client(") || trimmed.contains("Store(") || trimmed.contains("Mutex(") {
                    globals.append("\(file.path): \(trimmed)")
                }
                if line.hasPrefix("var ") || line.hasPrefix("let ") || line.hasPrefix("nonisolated(unsafe)") {
                    globals.append("\(file.path): \(trimmed)")
                }
            }
        }
        #expect(globals == [])
    }
}
