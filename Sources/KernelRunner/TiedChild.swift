import CTiedSpawn
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// QEMU as the runner starts it: a child that cannot outlive memhp.
///
/// - SIGTERM, SIGINT, SIGHUP: the pid is registered with `RunnerCleanup`, which kills and reaps it.
/// - SIGKILL: the child set PR_SET_PDEATHSIG between fork and exec (`memhp_spawn_tied`; neither
///   posix_spawn nor Foundation's Process can), so the kernel kills it when the thread that
///   started it exits, which it does when memhp dies. The thread that starts a TiedChild must
///   therefore live until it has reaped it: `KernelRunner.run` reaps its QEMU before it returns
///   or throws.
final class TiedChild {
    let pid: pid_t
    private var waitStatus: Int32?

    /// Starts `executable` with `arguments`: stdin from /dev/null, stdout and stderr to `output`.
    /// With `processGroup` it leads a process group of its own, which a signal to memhp kills as a
    /// whole (a shell and the gcc or cpio it runs).
    init(executable: String, arguments: [String], output: Int32, processGroup: Bool = false) throws {
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard devNull >= 0 else { throw HarnessError("/dev/null: \(String(cString: strerror(errno)))") }
        defer { _ = close(devNull) }
        // Everything the child needs is allocated before the fork.
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        let cleanup = RunnerCleanup.shared
        cleanup.install()
        var spawnErrno: Int32 = 0
        let started = cleanup.spawn(group: processGroup) {
            let p = argv.withUnsafeBufferPointer {
                memhp_spawn_tied(executable, $0.baseAddress, devNull, output, output, processGroup ? 1 : 0)
            }
            spawnErrno = errno
            return p
        }
        guard let started else { throw HarnessError("memhp is exiting; \(executable) not started") }
        guard started > 0 else {
            throw HarnessError("cannot start \(executable): \(String(cString: strerror(spawnErrno)))")
        }
        pid = started
    }

    /// Whether it still runs (reaps it if it has exited).
    var isRunning: Bool {
        if waitStatus != nil { return false }
        waitStatus = RunnerCleanup.shared.reapIfExited(pid)
        return waitStatus == nil
    }

    /// Waits for it to exit and reaps it.
    func waitUntilExit() {
        while isRunning {
            // Wait without reaping (WNOWAIT), then reap under RunnerCleanup's lock.
            var info = siginfo_t()
            let r = waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT)
            if r < 0 && errno != EINTR { usleep(10_000) }
        }
    }

    func signal(_ sig: Int32) { if waitStatus == nil { kill(pid, sig) } }

    /// Its exit code, or the number of the signal that ended it (as Foundation's Process gives
    /// `terminationStatus`); -1 while it runs.
    var terminationStatus: Int32 {
        guard let s = waitStatus else { return -1 }
        let sig = s & 0x7f
        return sig == 0 ? (s >> 8) & 0xff : sig
    }
}
