import ArgumentParser
import KernelFS

/// `memhp export DIR`: the model's /sys and /proc files as a plain directory, for tools
/// with a `--sysroot` option (`lsmem --sysroot DIR`) and for fixtures.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the model's sysfs/procfs tree to a directory (for lsmem --sysroot).",
        discussion: """
        Writes DIR/sys/devices/system/{memory,node}, DIR/sys/kernel/mm/hugepages, \
        DIR/sys/module/memory_hotplug/parameters and DIR/proc with the text each file reads now, \
        the kernel's file modes, and sysfs' symlinks. A snapshot: writes to it do not reach the model \
        (use `memhp mount` for that).
        """)

    @Argument(help: "The directory to write (created if missing; existing entries are replaced).")
    var directory: String

    @OptionGroup var machine: MachineOptions
    @OptionGroup var setup: ModelSetupOptions

    func run() throws {
        let fs = try setup.makeKernelFS(machine)
        do {
            let s = try fs.export(to: directory)
            printError("memhp: exported \(s.files) files, \(s.symlinks) symlinks, \(s.directories) directories to \(directory)")
        } catch let e as ExportError {
            printError("memhp: export: \(e)")
            throw ExitCode(1)
        }
    }
}
