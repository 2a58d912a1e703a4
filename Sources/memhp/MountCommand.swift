import ArgumentParser
import FUSEServer
import KernelFS
#if canImport(Glibc)
import Glibc
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

/// FUSE mounts need CAP_SYS_ADMIN (memhp calls mount(2) itself, not fusermount) and /dev/fuse.
func requireFUSE(command: String) throws {
    guard geteuid() == 0 else {
        printError("memhp \(command): needs root (it mounts a FUSE file system with mount(2))")
        throw ExitCode(1)
    }
    guard access("/dev/fuse", R_OK | W_OK) == 0 else {
        printError("memhp \(command): /dev/fuse is missing or not accessible (modprobe fuse, or run the container with --device /dev/fuse)")
        throw ExitCode(1)
    }
}
