import ArgumentParser
import FUSEServer
import KernelFS

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `memhp mount DIR`: serve the model over FUSE so unmodified tools read and write it
/// like /sys and /proc (`lsmem --sysroot DIR`, `echo online > DIR/sys/.../state`).
struct MountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mount",
        abstract: "Serve the model's sysfs/procfs tree on DIR over FUSE (foreground).",
        discussion: """
            Reads return the model's current text; writes go to the model and fail with the kernel's \
            errno. Modes are enforced as sysfs does, for root too. Runs in the foreground until DIR is \
            unmounted or memhp gets SIGINT/SIGTERM, then detaches the mount. Needs root and /dev/fuse.
            """)

    @Argument(help: "The mount point (created if missing).")
    var directory: String

    @OptionGroup var machine: MachineOptions
    @OptionGroup var setup: ModelSetupOptions

    func run() throws {
        try requireFUSE(command: "mount")
        let fs = try setup.makeKernelFS(machine)
        try clearDeadMount(directory)
        if access(directory, F_OK) != 0 { _ = mkdir(directory, 0o755) }
        let server = FUSEServer(fs: fs, mountPoint: directory)
        do { try server.mount() } catch let e as FUSEError {
            printError("memhp: \(e)")
            throw ExitCode(1)
        }
        FUSESignals.stopOnSignals(server)
        printError("memhp: serving the model on \(directory) (unmount it or send SIGINT to stop)")
        defer { server.unmount() }
        do { try server.serve() } catch let e as FUSEError {
            printError("memhp: \(e)")
            throw ExitCode(1)
        }
        try setup.save(fs, machine: machine)
    }
}

/// A `memhp mount` killed with SIGKILL leaves its mount behind with no server (every access
/// ENOTCONN); a new mount would stack on it. Such a dead memhp mount is detached first; a
/// live one (another server) is refused.
func clearDeadMount(_ directory: String) throws {
    #if os(Linux)
    guard let resolved = realpath(directory, nil) else { return }
    let path = String(cString: resolved)
    free(resolved)
    guard let info = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return }
    let memhpMounts = info.split(separator: "\n").filter { line in
        let f = line.split(separator: " ")
        guard f.count > 4, f[4] == path, let dash = f.firstIndex(of: "-"), dash + 2 < f.count else { return false }
        return f[dash + 1].hasPrefix("fuse") && f[dash + 2] == "memhp"
    }
    guard !memhpMounts.isEmpty else { return }
    var st = stat()
    if stat(path, &st) == 0 {
        printError("memhp mount: \(directory) is already served by a running memhp mount; unmount it first")
        throw ExitCode(1)
    }
    guard errno == ENOTCONN else { return }
    for _ in memhpMounts { _ = umount2(path, Int32(MNT_DETACH)) }
    printError("memhp mount: \(directory) had a dead memhp mount (its server was killed); detached it")
    #endif
}

/// FUSE mounts need CAP_SYS_ADMIN (memhp calls mount(2) itself, not fusermount) and /dev/fuse.
func requireFUSE(command: String) throws {
    #if !os(Linux)
    printError("memhp \(command): needs Linux (the kernel's FUSE device /dev/fuse and mount(2) of type fuse)")
    throw ExitCode(1)
    #endif
    guard geteuid() == 0 else {
        printError("memhp \(command): needs root (it mounts a FUSE file system with mount(2))")
        throw ExitCode(1)
    }
    guard access("/dev/fuse", R_OK | W_OK) == 0 else {
        printError(
            "memhp \(command): /dev/fuse is missing or not accessible (modprobe fuse, or run the container with --device /dev/fuse)"
        )
        throw ExitCode(1)
    }
}
