import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a kernel run leaves behind if memhp is stopped in the middle: the QEMUs it started and
/// its temporary files. On SIGTERM, SIGINT or SIGHUP the runner kills and reaps every QEMU
/// registered here (by pid: never another one on the machine), removes the temporary paths and
/// exits with 128 + the signal's number, as a shell reports a process the signal killed.
///
/// The signals are taken by Dispatch signal sources on their own queue, installed when the
/// first run registers anything; a SIGKILL, which nothing can catch, is covered by the child's
/// own PR_SET_PDEATHSIG (`TiedChild`).
final class RunnerCleanup: @unchecked Sendable {
    static let shared = RunnerCleanup()
    static let signals: [Int32] = [SIGTERM, SIGINT, SIGHUP]

    // Guarded by `lock`: every access below takes it.
    private let lock = NSLock()
    /// Each child, and whether it leads a process group of its own (killed as a group).
    private var children: [pid_t: Bool] = [:]
    private var paths: Set<String> = []
    private var sources: [any DispatchSourceSignal] = []
    private var exiting = false
    private let queue = DispatchQueue(label: "memhp.kernel-run.signals")

    /// Takes SIGTERM, SIGINT and SIGHUP from now on (once).
    func install() {
        lock.lock()
        defer { lock.unlock() }
        guard sources.isEmpty else { return }
        for sig in Self.signals {
            // The default action would end the process before the source sees the signal.
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            s.setEventHandler { [unowned self] in self.terminate(signal: sig) }
            s.resume()
            sources.append(s)
        }
    }

    /// Registers a child while it is being started: `start` runs under the lock, so a signal
    /// that arrives meanwhile waits for the pid to be known. Nil when memhp is already exiting.
    /// A `group` child leads its own process group, and the signal path kills the whole group.
    func spawn(group: Bool = false, _ start: () throws -> pid_t) rethrows -> pid_t? {
        lock.lock()
        defer { lock.unlock() }
        if exiting { return nil }
        let pid = try start()
        if pid > 0 { children[pid] = group }
        return pid
    }

    /// Reaps `pid` if it has exited (waitpid WNOHANG) and forgets it, both under the lock, so the
    /// signal path never kills a pid that was reaped and may have been reused. Returns the wait
    /// status, or nil while it runs.
    func reapIfExited(_ pid: pid_t) -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        var status: Int32 = 0
        var r: pid_t
        repeat { r = waitpid(pid, &status, WNOHANG) } while r < 0 && errno == EINTR
        guard r == pid else { return nil }
        children[pid] = nil
        return status
    }

    func addPath(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        paths.insert(path)
    }
    func removePath(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        paths.remove(path)
    }

    /// The signal path: kill and reap our children (a group child with everything it started),
    /// remove our temporary files, exit 128 + `signal`. The lock is kept to the end, so no other
    /// thread starts or reaps a child meanwhile.
    private func terminate(signal sig: Int32) {
        lock.lock()
        exiting = true
        for (pid, group) in children {
            kill(group ? -pid : pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        for p in paths { try? FileManager.default.removeItem(atPath: p) }
        let qemus = children.filter { !$0.value }.keys.sorted().map(String.init).joined(separator: ", ")
        let builds = children.filter(\.value).keys.sorted().map(String.init).joined(separator: ", ")
        let name = String(cString: strsignal(sig))
        let note =
            "memhp: \(name): " + (qemus.isEmpty ? "no QEMU was running" : "killed QEMU (pid \(qemus))")
            + (builds.isEmpty ? "" : ", killed the guest build (process group \(builds))")
            + (paths.isEmpty ? "" : ", removed \(paths.sorted().joined(separator: ", "))") + "\n"
        _ = note.withCString { write(2, $0, strlen($0)) }
        // _exit: the main thread may be in the middle of stdio, which exit's flush could wait on.
        _exit(128 + sig)
    }
}
