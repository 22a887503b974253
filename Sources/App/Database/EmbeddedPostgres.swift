import Crypto
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A private PostgreSQL cluster under the data folder, listening on a Unix socket only.
///
/// Every process that uses the cluster (the server, CLI commands) holds a shared lease on it. Whoever finds the
/// cluster stopped starts it; whoever leaves last stops it, so a CLI command run beside a server never pulls the
/// database out from under it.
public final class EmbeddedPostgres: Sendable {
    public static let databaseName = "vitrina"
    public static let superuser = "vitrina"

    let dataDirectory: String
    let logger: Logger
    private let leaseDescriptor = Mutex<Int32>(-1)

    public init(dataDirectory: String, logger: Logger) {
        self.dataDirectory = URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
        self.logger = logger
    }

    /// Initialises the cluster if needed, starts it unless it runs, takes a lease and returns how to reach it.
    public func start() async throws -> DatabaseURL {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let binaries = try PostgresBinaries.locate()
        let owner = try ClusterOwner.current()
        return try withFileLock(named: "postgres.lock") {
            let layout = try ClusterLayout.prepare(dataDirectory: dataDirectory, owner: owner)
            var created = false
            if !FileManager.default.fileExists(atPath: layout.pgdata + "/PG_VERSION") {
                logger.info("Creating the embedded PostgreSQL cluster in \(layout.root) (first run only)…")
                try owner.run(
                    [
                        binaries.initdb, "-D", layout.pgdata, "-U", Self.superuser, "--auth=trust",
                        "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions",
                    ], what: "initdb")
                try writeConfiguration(layout: layout)
                created = true
            }
            let status = try owner.run([binaries.pgctl, "-D", layout.pgdata, "status"], what: "pg_ctl status", allowFailure: true)
            if status.status != 0 {
                logger.info("Starting embedded PostgreSQL (socket in \(layout.socketDirectory))…")
                try owner.run(
                    [
                        binaries.pgctl, "-D", layout.pgdata, "-l", layout.logFile, "-w", "-t", "60",
                        "-o", "-k \(layout.socketDirectory)", "start",
                    ], what: "pg_ctl start",
                    hint: "See \(layout.logFile) for PostgreSQL's own log.")
            }
            if try created || !databaseExists(binaries: binaries, owner: owner, layout: layout) {
                try owner.run(
                    [
                        binaries.psql, "-h", layout.socketDirectory, "-U", Self.superuser, "-d", "postgres",
                        "-v", "ON_ERROR_STOP=1", "-q", "-c", "CREATE DATABASE \(Self.databaseName)",
                    ], what: "create database")
            }
            try takeLease()
            return DatabaseURL(
                endpoint: .unixSocket(path: layout.socketDirectory + "/.s.PGSQL.5432"),
                username: Self.superuser, database: Self.databaseName, tls: .disable)
        }
    }

    /// Releases this process's lease and stops the cluster when no other process holds one.
    public func stop() {
        do {
            try withFileLock(named: "postgres.lock") {
                releaseLease()
                guard try isUnused() else {
                    logger.info("Embedded PostgreSQL is still used by another Vitrina process; leaving it running.")
                    return
                }
                let binaries = try PostgresBinaries.locate()
                let owner = try ClusterOwner.current()
                let layout = try ClusterLayout.prepare(dataDirectory: dataDirectory, owner: owner)
                logger.info("Stopping embedded PostgreSQL…")
                try owner.run(
                    [binaries.pgctl, "-D", layout.pgdata, "-m", "fast", "-w", "stop"], what: "pg_ctl stop",
                    allowFailure: true)
            }
        } catch {
            logger.error("Could not stop embedded PostgreSQL cleanly: \(error)")
        }
    }

    private func databaseExists(binaries: PostgresBinaries, owner: ClusterOwner, layout: ClusterLayout) throws -> Bool {
        let result = try owner.run(
            [
                binaries.psql, "-h", layout.socketDirectory, "-U", Self.superuser, "-d", "postgres",
                "-tAc", "SELECT 1 FROM pg_database WHERE datname = '\(Self.databaseName)'",
            ], what: "check database")
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "1"
    }

    private func writeConfiguration(layout: ClusterLayout) throws {
        let settings = """

            # Written by Vitrina: a private cluster reachable only through its Unix socket.
            listen_addresses = ''
            unix_socket_directories = '\(layout.socketDirectory)'
            unix_socket_permissions = 0700
            max_connections = 200
            shared_buffers = 128MB
            log_min_messages = warning
            log_line_prefix = '%m [%p] '

            """
        let path = layout.pgdata + "/postgresql.conf"
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw EmbeddedPostgresError.failed("write \(path)", "cannot open the file")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(settings.utf8))
    }

    // MARK: Leases (flock on files in the data folder)

    private func withFileLock<T>(named name: String, _ body: () throws -> T) throws -> T {
        let fd = open(dataDirectory + "/" + name, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw EmbeddedPostgresError.failed("open \(name)", String(cString: strerror(errno))) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw EmbeddedPostgresError.failed("lock \(name)", String(cString: strerror(errno))) }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    private func takeLease() throws {
        try leaseDescriptor.withLock { descriptor in
            guard descriptor < 0 else { return }
            let fd = open(dataDirectory + "/postgres.users", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0, flock(fd, LOCK_SH) == 0 else {
                throw EmbeddedPostgresError.failed("lease", String(cString: strerror(errno)))
            }
            descriptor = fd
        }
    }

    private func releaseLease() {
        leaseDescriptor.withLock { descriptor in
            if descriptor >= 0 {
                flock(descriptor, LOCK_UN)
                close(descriptor)
            }
            descriptor = -1
        }
    }

    private func isUnused() throws -> Bool {
        let fd = open(dataDirectory + "/postgres.users", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return true
        }
        return false
    }
}

/// Why the embedded cluster could not be used.
public enum EmbeddedPostgresError: Error, CustomStringConvertible {
    case binariesMissing
    case noUnprivilegedUser
    case failed(String, String)

    public var description: String {
        switch self {
        case .binariesMissing:
            """
            PostgreSQL's server programs (initdb, pg_ctl, postgres) were not found on PATH or in /usr/lib/postgresql/*/bin.
            Install them with:  apt-get install postgresql   (Debian/Ubuntu; `make run` does this for you)
            or point Vitrina at an existing server with DATABASE_URL=postgres://user:password@host:5432/database
            """
        case .noUnprivilegedUser:
            """
            PostgreSQL refuses to run as root, and there is no 'postgres' system user to run it as.
            Create one (useradd --system --home /var/lib/postgresql --shell /bin/sh postgres),
            run Vitrina as an ordinary user, or set DATABASE_URL.
            """
        case .failed(let step, let output): "Embedded PostgreSQL: \(step) failed: \(output.trimmingCharacters(in: .whitespacesAndNewlines))"
        }
    }
}

/// Where the PostgreSQL server programs are.
struct PostgresBinaries {
    var initdb: String
    var pgctl: String
    var psql: String

    static func locate() throws -> PostgresBinaries {
        var folders: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["VITRINA_PG_BIN"] { folders.append(explicit) }
        if let initdb = ProcessInfo.processInfo.environment["PATH"].flatMap({ ProcessRunner.which("initdb", path: $0) }) {
            folders.append((URL(fileURLWithPath: initdb).resolvingSymlinksInPath().path as NSString).deletingLastPathComponent)
        }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in versions.compactMap(Int.init).sorted(by: >) { folders.append("/usr/lib/postgresql/\(version)/bin") }
        for folder in folders {
            let candidate = PostgresBinaries(initdb: folder + "/initdb", pgctl: folder + "/pg_ctl", psql: folder + "/psql")
            let fm = FileManager.default
            if fm.isExecutableFile(atPath: candidate.initdb), fm.isExecutableFile(atPath: candidate.pgctl),
                fm.isExecutableFile(atPath: folder + "/postgres")
            {
                let psql = fm.isExecutableFile(atPath: candidate.psql) ? candidate.psql : (ProcessRunner.which("psql") ?? candidate.psql)
                return PostgresBinaries(initdb: candidate.initdb, pgctl: candidate.pgctl, psql: psql)
            }
        }
        throw EmbeddedPostgresError.binariesMissing
    }
}

/// The account the cluster's processes run as: the current user, or an unprivileged one when we are root.
struct ClusterOwner {
    var name: String?
    var uid: uid_t
    var gid: gid_t

    static func current() throws -> ClusterOwner {
        guard getuid() == 0 else { return ClusterOwner(name: nil, uid: getuid(), gid: getgid()) }
        let wanted = ProcessInfo.processInfo.environment["VITRINA_PG_USER"] ?? "postgres"
        guard let entry = getpwnam(wanted) else { throw EmbeddedPostgresError.noUnprivilegedUser }
        return ClusterOwner(name: wanted, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
    }

    /// Runs a command as the owner (through `runuser` when we are root).
    @discardableResult
    func run(
        _ arguments: [String], what: String, allowFailure: Bool = false, hint: String? = nil
    ) throws
        -> ProcessRunner.Result
    {
        var argv = arguments
        if let name {
            let runuser = ["/usr/sbin/runuser", "/sbin/runuser"].first { FileManager.default.isExecutableFile(atPath: $0) }
            guard let runuser else {
                throw EmbeddedPostgresError.failed(what, "runuser (util-linux) is needed to run PostgreSQL as '\(name)'")
            }
            argv = [runuser, "-u", name, "--"] + arguments
        }
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C.UTF-8"
        environment.removeValue(forKey: "PGDATA")
        let result = try ProcessRunner.run(argv, environment: environment)
        if result.status != 0 && !allowFailure {
            throw EmbeddedPostgresError.failed(what, result.output + (hint.map { "\n" + $0 } ?? ""))
        }
        return result
    }

    /// Whether the owner can enter and write a folder (tried for real, as that user).
    func canUse(_ folder: String) -> Bool {
        guard name != nil else { return true }
        return (try? run(["/bin/sh", "-c", "test -x \"$0\" && test -w \"$0\"", folder], what: "access check", allowFailure: true))?.status
            == 0
    }
}

/// The cluster's folders: `<data>/postgres/{data,run,postgres.log}`.
struct ClusterLayout {
    var root: String
    var pgdata: String { root + "/data" }
    var socketDirectory: String
    var logFile: String { root + "/postgres.log" }

    static func prepare(dataDirectory: String, owner: ClusterOwner) throws -> ClusterLayout {
        let fm = FileManager.default
        let link = dataDirectory + "/postgres"
        var root = link
        if let destination = try? fm.destinationOfSymbolicLink(atPath: link) { root = destination }
        if !fm.fileExists(atPath: root) {
            try fm.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            chown(root, owner.uid, owner.gid)
            if !owner.canUse(root) {
                // The data folder sits somewhere the unprivileged user cannot reach (e.g. under /root): keep the
                // cluster in /var/lib/vitrina and link it from the data folder.
                try? fm.removeItem(atPath: root)
                let digest = SHA256.hash(data: Data(dataDirectory.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
                root = "/var/lib/vitrina/cluster-\(digest)"
                try fm.createDirectory(
                    atPath: "/var/lib/vitrina", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
                try fm.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                chown(root, owner.uid, owner.gid)
                try fm.createSymbolicLink(atPath: link, withDestinationPath: root)
            }
        }
        var socket = root + "/run"
        if socket.utf8.count + 16 > 100 {  // sun_path holds 108 bytes including ".s.PGSQL.5432"
            let digest = SHA256.hash(data: Data(root.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
            socket = "/tmp/vitrina-pg-\(digest)"
        }
        if !fm.fileExists(atPath: socket) {
            try fm.createDirectory(atPath: socket, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            chown(socket, owner.uid, owner.gid)
        }
        return ClusterLayout(root: root, socketDirectory: socket)
    }
}
