import ArgumentParser
import FUSEServer
import Foundation
import KernelFS

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `memhp sandbox -- COMMAND...`: run an unmodified program with the model's files in place
/// of the host's memory hotplug and hugetlb files, in a private mount namespace, so nothing
/// the program writes reaches the host kernel.
struct SandboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run COMMAND with the model bound over /sys and /proc memory files (private mount namespace).",
        discussion: """
            Bound over every path the model serves: the directories /sys/devices/system/memory, \
            /sys/devices/system/node, /sys/kernel/mm/hugepages, /sys/module/memory_hotplug/parameters \
            and /sys/kernel/debug (a debugfs is mounted there first, so `mount -t debugfs` finds it), \
            and each file the model serves under /proc (meminfo, zoneinfo, buddyinfo, pagetypeinfo, \
            vmstat, iomem, kpageflags and every /proc/sys/vm file it has). It fails closed: if a \
            served path that exists on the host cannot be covered, COMMAND does not run. Everything \
            else is the host's. Exits with COMMAND's status. Needs root and /dev/fuse.
            """)

    @OptionGroup var machine: MachineOptions
    @OptionGroup var setup: ModelSetupOptions

    @Argument(parsing: .postTerminator, help: "The command and its arguments (after --).")
    var command: [String] = []

    static let howToUseTerminator =
        "give it after `--` (memhp's options before it, the command and its arguments after), e.g. memhp sandbox --mem 2G --dimm 512M -- lsmem -a"

    static let debugfs = "/sys/kernel/debug"

    /// Whether a debugfs is mounted at `path` in this namespace (/proc/self/mountinfo).
    static func debugfsMounted(at path: String) -> Bool {
        guard let info = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return false }
        return info.split(separator: "\n").contains { line in
            let f = line.split(separator: " ")
            guard f.count > 4, f[4] == path, let dash = f.firstIndex(of: "-"), dash + 1 < f.count else { return false }
            return f[dash + 1] == "debugfs"
        }
    }

    func validate() throws {
        if command.isEmpty { throw ValidationError("no COMMAND to run: \(Self.howToUseTerminator)") }
    }

    #if os(Linux)
    func run() throws {
        try requireFUSE(command: "sandbox")
        let fs = try setup.makeKernelFS(machine)

        // A private namespace first: the FUSE mount and the binds never appear on the host.
        guard unshareMountNamespace() else { fail("unshare(CLONE_NEWNS)") }
        guard Glibc.mount("none", "/", nil, UInt(MS_REC | MS_PRIVATE), nil) == 0 else { fail("make / private") }
        var template = Array("/tmp/memhp-sandbox.XXXXXX".utf8CString)
        guard let dirPtr = mkdtemp(&template) else { fail("mkdtemp") }
        let root = String(cString: dirPtr)

        let server = FUSEServer(fs: fs, mountPoint: root)
        do { try server.mount() } catch { _ = rmdir(root); printError("memhp sandbox: \(error)"); throw ExitCode(1) }
        let serving = server.serveInBackground()

        // Tools find debugfs with `mount -t debugfs`: a real one must be mounted where the
        // model's debugfs files are then bound (the host's stays unseen below them).
        if access(Self.debugfs, F_OK) == 0 && !Self.debugfsMounted(at: Self.debugfs) {
            if Glibc.mount("debugfs", Self.debugfs, "debugfs", 0, nil) != 0 {
                printError(
                    "memhp sandbox: cannot mount debugfs on \(Self.debugfs): \(String(cString: strerror(errno)))")
            }
        }
        let binds: [String]
        do { binds = try fs.sandboxBinds() } catch { fail("listing the model's tree: \(error)") }
        var bound: [String] = []
        for path in binds {
            // A path the host does not have cannot reach the host either: nothing to cover.
            guard access(path, F_OK) == 0 else { continue }
            guard Glibc.mount(root + path, path, nil, UInt(MS_BIND), nil) == 0 else {
                failClosed(
                    root: root,
                    "cannot cover \(path) (bind: \(String(cString: strerror(errno)))); not running \(command[0]) with the host's file in its place"
                )
            }
            bound.append(path)
        }
        // Fail closed: every covered path must now be the model's (same device as the FUSE
        // mount), or the command does not run.
        var fuseStat = stat()
        guard stat(root, &fuseStat) == 0 else { fail("stat \(root)") }
        for path in bound {
            var st = stat()
            guard stat(path, &st) == 0, st.st_dev == fuseStat.st_dev else {
                failClosed(root: root, "\(path) still shows the host's file after the bind; not running \(command[0])")
            }
        }
        // The binds hold the connection now: the temporary mount point goes at once, so a
        // sandbox killed with SIGKILL leaves no directory behind.
        _ = umount2(root, Int32(MNT_DETACH))
        _ = rmdir(root)

        // Ctrl-C goes to the command; the sandbox only waits for it (as system(3) does).
        signal(SIGINT, SIG_IGN)
        signal(SIGQUIT, SIG_IGN)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        var defaults = sigset_t()
        sigemptyset(&defaults); sigaddset(&defaults, SIGINT); sigaddset(&defaults, SIGQUIT)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF))
        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, command[0], nil, &attr, &argv, environ)
        posix_spawnattr_destroy(&attr)
        var status: Int32 = 0
        if rc == 0 {
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        } else {
            printError("memhp sandbox: \(command[0]): \(String(cString: strerror(rc)))")
        }

        for path in bound.reversed() { _ = umount2(path, Int32(MNT_DETACH)) }
        serving.finish()
        try setup.save(fs, machine: machine)

        if rc != 0 { throw ExitCode(rc == ENOENT ? 127 : 126) }
        // The command's status: its exit code, or 128+N when a signal ended it (as shells say).
        let sig = status & 0x7f
        throw ExitCode(sig == 0 ? (status >> 8) & 0xff : 128 + sig)
    }

    /// Refuses to run the command: the namespace (and every bind in it) goes with this process.
    private func failClosed(root: String, _ why: String) -> Never {
        printError("memhp sandbox: \(why)")
        _ = umount2(root, Int32(MNT_DETACH))
        _ = rmdir(root)
        Glibc.exit(1)
    }

    private func fail(_ what: String) -> Never {
        printError("memhp sandbox: \(what): \(String(cString: strerror(errno)))")
        Glibc.exit(1)
    }
    #else
    /// Mount namespaces, bind mounts and /dev/fuse are Linux's: requireFUSE says so.
    func run() throws { try requireFUSE(command: "sandbox") }
    #endif
}
