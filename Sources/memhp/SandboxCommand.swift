import ArgumentParser
import FUSEServer
import Foundation
import KernelFS
#if canImport(Glibc)
import Glibc
#endif

/// `memhp sandbox -- COMMAND...`: run an unmodified program with the model's files in place
/// of the host's memory hotplug and hugetlb files, in a private mount namespace, so nothing
/// the program writes reaches the host kernel.
struct SandboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run COMMAND with the model bound over /sys and /proc memory files (private mount namespace).",
        discussion: """
        Bound over: /sys/devices/system/memory, /sys/devices/system/node, /sys/kernel/mm/hugepages, \
        /sys/module/memory_hotplug, /proc/meminfo, /proc/zoneinfo, /proc/buddyinfo, \
        /proc/pagetypeinfo, /proc/vmstat, /proc/kpageflags, the hugetlb files of /proc/sys/vm, and \
        /sys/kernel/debug (a debugfs is mounted there first, so `mount -t debugfs` finds it; the \
        model's files cover it: notifier-error-inject with --module, memhp/explain). Everything \
        else is the host's. Exits with COMMAND's status. Needs root and /dev/fuse.
        """)

    @OptionGroup var machine: MachineOptions
    @OptionGroup var setup: ModelSetupOptions

    @Argument(parsing: .postTerminator, help: "The command and its arguments (after --).")
    var command: [String] = []

    static let howToUseTerminator =
        "give it after `--` (memhp's options before it, the command and its arguments after), e.g. memhp sandbox --mem 2G --dimm 512M -- lsmem -a"

    /// What is bound where (the same path in the model's tree and on the host).
    static let binds = [
        "/sys/devices/system/memory", "/sys/devices/system/node", "/sys/kernel/mm/hugepages",
        "/sys/module/memory_hotplug", "/proc/meminfo", "/proc/zoneinfo", "/proc/buddyinfo",
        "/proc/pagetypeinfo", "/proc/vmstat", "/proc/kpageflags",
        "/proc/sys/vm/nr_hugepages", "/proc/sys/vm/nr_hugepages_mempolicy",
        "/proc/sys/vm/nr_overcommit_hugepages", "/proc/sys/vm/hugetlb_optimize_vmemmap",
        debugfs,
    ]
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
        do { try server.mount() } catch { printError("memhp sandbox: \(error)"); throw ExitCode(1) }
        let serving = Thread { try? server.serve() }
        serving.start()

        // Tools find debugfs with `mount -t debugfs`: a real one must be mounted where the
        // model's debugfs files are then bound (the host's stays unseen below them).
        if access(Self.debugfs, F_OK) == 0 && !Self.debugfsMounted(at: Self.debugfs) {
            if Glibc.mount("debugfs", Self.debugfs, "debugfs", 0, nil) != 0 {
                printError("memhp sandbox: cannot mount debugfs on \(Self.debugfs): \(String(cString: strerror(errno)))")
            }
        }
        for path in Self.binds {
            guard (try? fs.lookup(path)) != nil else { continue }     // the model does not serve it
            guard access(path, F_OK) == 0 else {
                printError("memhp sandbox: \(path) does not exist on this host; not bound")
                continue
            }
            guard Glibc.mount(root + path, path, nil, UInt(MS_BIND), nil) == 0 else { fail("bind \(path)") }
        }

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

        for path in Self.binds.reversed() { _ = umount2(path, Int32(MNT_DETACH)) }
        server.stop()
        while !serving.isFinished { usleep(1000) }
        server.unmount()
        _ = rmdir(root)
        try setup.save(fs, machine: machine)

        if rc != 0 { throw ExitCode(rc == ENOENT ? 127 : 126) }
        // The command's status: its exit code, or 128+N when a signal ended it (as shells say).
        let sig = status & 0x7f
        throw ExitCode(sig == 0 ? (status >> 8) & 0xff : 128 + sig)
    }

    private func fail(_ what: String) -> Never {
        printError("memhp sandbox: \(what): \(String(cString: strerror(errno)))")
        Glibc.exit(1)
    }
}
