import Foundation
import TenantScopeCore

#if canImport(Glibc)
import Glibc
#endif

/// Runs external programs (the PostgreSQL binaries) and collects their output.
enum ProcessRunner {
    struct Result {
        var status: Int32
        var output: String
    }

    /// True when this process runs as root, where PostgreSQL refuses to start and must run as `postgres`.
    static var isRoot: Bool { geteuid() == 0 }

    /// Runs `executable` with `arguments`, as the `postgres` OS user when `asPostgresUser` and we are root.
    ///
    /// Uses `posix_spawn` and `waitpid` rather than Foundation's `Process`: `pg_ctl start` leaves a
    /// daemon behind that would inherit `Process`'s internal descriptors and keep it from ever reporting
    /// the exit; every descriptor above standard error is closed in the child. Output goes to a temporary
    /// file, so a chatty program cannot block on a full pipe.
    /// `environment` is added to ours (a password for `pg_basebackup`, never on its command line).
    static func run(_ executable: String, _ arguments: [String], asPostgresUser: Bool = false,
                    environment: [String: String] = [:]) async throws -> Result {
        // `cd /` first: the postgres user may not be able to read our working directory.
        let command = asPostgresUser && isRoot
            ? ["/usr/sbin/runuser", "-u", "postgres", "--", executable] + arguments
            : [executable] + arguments
        let argv = ["/bin/sh", "-c", "cd / && exec \"$@\"", "sh"] + command
        let outputPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("tenantscope-\(UUID().uuidString).out").path
        defer { unlink(outputPath) }

        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            // waitpid blocks, so it gets a thread of its own instead of a cooperative-pool thread.
            Thread.detachNewThread {
                do {
                    continuation.resume(returning: try spawnAndWait(argv, outputPath: outputPath, extraEnvironment: environment))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return Result(status: status, output: output)
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), looked up at run time because
    /// Swift's Glibc module does not import it; nil where the C library lacks it.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    private static func spawnAndWait(_ argv: [String], outputPath: String, extraEnvironment: [String: String]) throws -> Int32 {
        var environment = ProcessInfo.processInfo.environment.merging(extraEnvironment) { _, extra in extra }
        environment["LC_ALL"] = "C"
        let pid = try spawn(argv, environment: environment, outputPath: outputPath)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw TenantScopeError.environment("waitpid failed for \(argv[0])") }
        }
        return exitStatus(status)
    }

    /// Starts `argv` (`argv[0]` an absolute path) with `environment`, standard input from `/dev/null`,
    /// standard output to `outputPath` and standard error to `errorPath` (the same file when nil), both
    /// truncated first, and returns its pid; the caller reaps it with `waitpid`.
    ///
    /// Every descriptor above standard error is closed in the child. Nothing else of ours reaches it,
    /// nor a daemon it leaves behind (`pg_ctl start`): a descriptor the host process opened without
    /// close-on-exec (a pipe, or another spawn's internal socket) would otherwise live as long as the
    /// child does, and whoever waits for that descriptor's end would wait as long.
    static func spawn(_ argv: [String], environment: [String: String], outputPath: String, errorPath: String? = nil) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let errorPath {
            posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }

        var cArgs = argv.map { strdup($0) } + [nil]
        var cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArgs.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, &cEnv)
        guard spawned == 0 else {
            throw TenantScopeError.environment("cannot run \(argv[0]): \(String(cString: strerror(spawned)))")
        }
        return pid
    }

    /// The exit status `waitpid` reported: the program's own, or 128 + the signal that ended it
    /// (WIFEXITED / WEXITSTATUS / WTERMSIG spelled out because the C macros are not imported).
    static func exitStatus(_ status: Int32) -> Int32 {
        (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }

    /// Makes `path` owned by the `postgres` OS user when we are root (a no-op otherwise).
    static func handToPostgresUser(_ path: String) throws {
        guard isRoot else { return }
        guard let user = getpwnam("postgres") else {
            throw TenantScopeError.environment(
                "running as root needs the 'postgres' OS user to run PostgreSQL; install it with: apt-get install -y postgresql"
            )
        }
        guard chown(path, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
            throw TenantScopeError.environment("could not hand \(path) to the postgres OS user (errno \(errno))")
        }
    }
}
