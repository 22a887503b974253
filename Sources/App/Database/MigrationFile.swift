import Crypto
import Foundation

/// One forward-only migration file, `NNNN_snake_case.sql`.
public struct MigrationFile: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let checksum: String
    public let statements: [String]

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.checksum = SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
        self.statements = SQLScript.statements(in: sql)
    }

    /// Loads and checks a folder of migrations: names well formed, versions 1, 2, 3… with no gaps or repeats.
    public static func load(folder: String) throws -> [MigrationFile] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".sql") }.sorted()
        } catch {
            throw MigrationError.folderMissing(folder)
        }
        var files: [MigrationFile] = []
        for fileName in names {
            let stem = String(fileName.dropLast(4))
            let parts = stem.split(separator: "_", maxSplits: 1)
            guard parts.count == 2, parts[0].count == 4, let version = Int(parts[0]),
                parts[1].allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" }), parts[1].allSatisfy(\.isASCII)
            else {
                throw MigrationError.badFileName(folder + "/" + fileName)
            }
            let sql = try String(contentsOfFile: folder + "/" + fileName, encoding: .utf8)
            files.append(MigrationFile(version: version, name: String(parts[1]), sql: sql))
        }
        for (index, file) in files.enumerated() where file.version != index + 1 {
            throw MigrationError.gap(folder, expected: index + 1, found: file.version)
        }
        return files
    }
}

/// Why migrations cannot run.
public enum MigrationError: Error, CustomStringConvertible {
    case folderMissing(String)
    case badFileName(String)
    case gap(String, expected: Int, found: Int)
    case checksumMismatch(scope: String, version: Int, name: String)
    case missingFile(scope: String, version: Int, name: String)
    case statementFailed(scope: String, version: Int, name: String, message: String)
    case tenantsBehind(Int)

    public var description: String {
        switch self {
        case .folderMissing(let folder):
            "Migrations folder \(folder) is missing (set VITRINA_RESOURCES_DIR to the folder holding Migrations/)."
        case .badFileName(let path): "\(path): migration files are named NNNN_snake_case.sql."
        case .gap(let folder, let expected, let found):
            "\(folder): expected migration \(String(format: "%04d", expected)) but found \(String(format: "%04d", found)); versions must run 0001, 0002, … without gaps."
        case .checksumMismatch(let scope, let version, let name):
            "The \(scope) migration \(String(format: "%04d", version))_\(name).sql was changed after it was applied. Applied migrations are never edited: restore the file and add a new migration for the change."
        case .missingFile(let scope, let version, let name):
            "The \(scope) migration \(String(format: "%04d", version))_\(name).sql was applied to this database but is missing here. Is this an older build of Vitrina?"
        case .statementFailed(let scope, let version, let name, let message):
            "The \(scope) migration \(String(format: "%04d", version))_\(name).sql failed: \(message)"
        case .tenantsBehind(let count): "\(count) tenant schema(s) failed to migrate; run `vitrina migrate` to see why."
        }
    }
}
