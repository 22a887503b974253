import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs an external program to completion and captures what it printed.
///
/// Uses `posix_spawn` and `waitpid` directly: output goes to a temporary file rather than a pipe, because
/// `pg_ctl start` leaves a server running that inherits the descriptor (a pipe would never reach end-of-file).
public struct ProcessRunner {
    public struct Result: Sendable {
        public var status: Int32
        public var output: String
    }

    /// Runs `arguments[0]` with the rest as its arguments; stdout and stderr are captured together.
    @discardableResult
    public static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> Result {
        let outputPath = NSTemporaryDirectory() + "vitrina-\(UUID().uuidString).out"
        let fd = open(outputPath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer {
            close(fd)
            unlink(outputPath)
        }
        let pid: pid_t
        do {
            pid = try start(arguments, environment: environment ?? ProcessInfo.processInfo.environment, output: fd)
        } catch let error as POSIXError {
            return Result(status: 127, output: "cannot run \(arguments[0]): \(String(cString: strerror(error.code.rawValue)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { break }
        }
        let data = (try? Data(contentsOf: URL(fileURLWithPath: outputPath))) ?? Data()
        let exitCode: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Result(status: exitCode, output: String(decoding: data, as: UTF8.self))
    }

    /// Starts a program in the background with its output appended to `outputPath`; returns its process id.
    public static func spawn(_ arguments: [String], environment: [String: String], outputPath: String) throws -> pid_t {
        let fd = open(outputPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer { close(fd) }
        return try start(arguments, environment: environment, output: fd)
    }

    /// Starts `arguments[0]` with stdin from /dev/null and stdout and stderr to `output`, with a clean signal state.
    private static func start(_ arguments: [String], environment: [String: String], output fd: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fd, 1)
        posix_spawn_file_actions_adddup2(&actions, fd, 2)
        let env = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        var spawned = ETXTBSY
        // A script written a moment ago can be "busy": a fork elsewhere in this process (another thread starting
        // a program) holds a copy of its writer's descriptor until that child execs. It passes within milliseconds.
        for attempt in 0..<busyRetries where spawned == ETXTBSY {
            if attempt > 0 { usleep(20_000) }
            spawned = withCStrings(arguments) { argv in
                withCStrings(env) { envp in
                    withCleanSignals { attributes in posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp) }
                }
            }
        }
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .ENOEXEC) }
        return pid
    }

    /// How often a start refused with "text file busy" is tried again, 20 ms apart (a second in all).
    static let busyRetries = 50

    /// Sends SIGTERM and waits for the process to end.
    public static func terminate(_ pid: pid_t) {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// Spawn attributes that give the child an empty signal mask and default handlers: the server's threads block
    /// signals for their own handling, and a child inheriting that (pgbench's timer, postgres) would misbehave.
    private static func withCleanSignals<R>(_ body: (inout posix_spawnattr_t) -> R) -> R {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var all = sigset_t()
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        return body(&attributes)
    }

    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { pointers.forEach { free($0) } }
        return body(pointers)
    }

    /// The first executable named `name` on `PATH`, if any.
    public static func which(_ name: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        for folder in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
