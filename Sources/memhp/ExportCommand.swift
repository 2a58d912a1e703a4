import ArgumentParser
import Foundation
import KernelFS

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `memhp export DIR`: the model's /sys and /proc files as a plain directory, for tools
/// with a `--sysroot` option (`lsmem --sysroot DIR`) and for fixtures.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the model's sysfs/procfs tree to a directory (for lsmem --sysroot).",
        discussion: """
            Writes DIR/sys/devices/system/{memory,node}, DIR/sys/kernel/mm/hugepages, \
            DIR/sys/module/memory_hotplug/parameters, DIR/sys/kernel/debug (memhp's explain log, and \
            memory-notifier-error-inject's files with --module) and DIR/proc with the text each file reads now, \
            the kernel's file modes, and sysfs' symlinks. A snapshot: writes to it do not reach the model \
            (use `memhp mount` for that). The tree is written beside DIR first and moved into place \
            (DIR/sys and DIR/proc replaced whole), so a failed export leaves DIR as it was.
            """)

    @Argument(help: "The directory to write (created if missing; existing entries are replaced).")
    var directory: String

    @OptionGroup var machine: MachineOptions
    @OptionGroup var setup: ModelSetupOptions

    func run() throws {
        let fs = try setup.makeKernelFS(machine)
        // Written to a temporary directory beside DIR, then moved into place: a failed export
        // leaves DIR as it was, never a partial tree.
        let trimmed = directory.hasSuffix("/") && directory.count > 1 ? String(directory.dropLast()) : directory
        var template = Array((trimmed + ".memhp-export.XXXXXX").utf8CString)
        guard let tmpPtr = mkdtemp(&template) else {
            printError(
                "memhp: export: cannot create a temporary directory beside \(directory): \(String(cString: strerror(errno)))"
            )
            throw ExitCode(1)
        }
        let tmp = String(cString: tmpPtr)
        defer { removeTree(tmp) }
        do {
            let s = try fs.export(to: tmp)
            try moveExport(from: tmp, to: trimmed)
            printError(
                "memhp: exported \(s.files) files, \(s.symlinks) symlinks, \(s.directories) directories to \(directory)"
            )
        } catch let e as ExportError {
            printError("memhp: export: \(e)")
            throw ExitCode(1)
        } catch let e as ExportMoveError {
            printError("memhp: export: \(e.message)")
            throw ExitCode(1)
        }
    }
}

/// Moves the exported tree at `tmp` to `dir`: renamed whole when `dir` does not exist or is
/// empty, otherwise each top-level entry (sys, proc) replaces the one in `dir` by rename.
func moveExport(from tmp: String, to dir: String) throws {
    if rmdir(dir) == 0 || errno == ENOENT {
        guard rename(tmp, dir) == 0 else { throw ExportMoveError(path: dir) }
        _ = mkdir(tmp, 0o700)  // for the caller's cleanup
        return
    }
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []
    for e in entries {
        let old = dir + "/" + e
        let aside = tmp + "/" + e + ".old"
        if rename(old, aside) != 0 && errno != ENOENT {
            throw ExportMoveError(path: old)
        }
        guard rename(tmp + "/" + e, old) == 0 else { throw ExportMoveError(path: old) }
    }
}

struct ExportMoveError: Error {
    var message: String
    init(path: String) { message = "rename to \(path): \(String(cString: strerror(errno)))" }
}

/// `rm -rf`, making read-only directories (procfs' 0555) writable first.
func removeTree(_ path: String) {
    if let e = FileManager.default.enumerator(atPath: path) {
        for case let rel as String in e {
            var st = stat()
            let p = path + "/" + rel
            if lstat(p, &st) == 0, st.st_mode & S_IFMT == S_IFDIR { _ = chmod(p, 0o700) }
        }
    }
    _ = chmod(path, 0o700)
    try? FileManager.default.removeItem(atPath: path)
}
