import ArgumentParser
import Foundation
import KernelFS
import MemoryModel
import Scenario

/// How `export`, `mount` and `sandbox` prepare the machine they serve: boot it from the
/// machine options (or a scenario's header), run a scenario's steps, then apply writes.
struct ModelSetupOptions: ParsableArguments {
    @Option(
        help:
            "Run this scenario's steps first; its header (mem:, dimm:, ...) then describes the machine and the machine options are ignored."
    )
    var scenario: String?

    @Option(
        name: .customLong("write"),
        help: ArgumentHelp(
            "PATH=VALUE: write VALUE plus a newline to a kernel file before serving (repeatable, in order), e.g. /sys/devices/system/memory/memory32/state=online_movable. A refused write is an error.",
            valueName: "path=value"))
    var writes: [String] = []

    @Option(
        help:
            "A saved machine state: start from it when the file exists (its machine, not the options given), and save the state back to it at the end, atomically."
    )
    var state: String?

    @Option(
        name: .customLong("module"),
        help: ArgumentHelp(
            "Load a kernel module the model provides before serving (repeatable): memory-notifier-error-inject, whose debugfs files under /sys/kernel/debug/notifier-error-inject then exist.",
            valueName: "name"))
    var modules: [String] = []

    @Flag(
        help:
            "Print every write to stderr with the kernel's answer and, when the model explains it, why (what dynamic debug would show on Linux)."
    )
    var trace = false

    /// The prepared tree. Failed writes exit with status 1 and the kernel's error text.
    ///
    /// With `--state FILE` and an existing FILE, the machine is FILE's (see `SavedSession`).
    /// The `--write` options then follow one rule: FILE records the `--write` list of the
    /// command line that created it, whose effects it holds already, so restarting the same
    /// command line applies none of them again; a different non-empty list is an error
    /// (status 2), since it would change a saved machine behind its journal's back — write
    /// through the mount instead.
    func makeKernelFS(_ machine: MachineOptions) throws -> KernelFS {
        if let state {
            guard scenario == nil else { throw ValidationError("--state cannot be combined with --scenario") }
            if FileManager.default.fileExists(atPath: state) {
                let (fs, session) = try SavedState.load(state)
                if !writes.isEmpty && writes != session.setupWrites {
                    throw ValidationError(
                        "--state \(state) was created with "
                            + (session.setupWrites.isEmpty
                                ? "no --write options"
                                : "--write " + session.setupWrites.joined(separator: " --write "))
                            + "; its machine holds their effects already. Restart with the same --write options or none (write through the mount to change it)."
                    )
                }
                try prepare(fs)
                fs.journaling = true
                return fs
            }
        }
        let m: Machine
        if let scenario {
            let sc = try loadScenario(scenario)
            var booted: Machine?
            let result = ModelRunner(
                scenario: sc,
                boot: { cfg in
                    let m = try machine.host.boot(seed: cfg.seed) ?? bootWithColdPlug(cfg)
                    booted = m
                    return m
                }
            ).run()
            guard let b = booted, result.completed else {
                let why =
                    result.lines.contains { $0.hasPrefix("oom_kill ") }
                    ? " (the OOM killer killed the guest program)" : ""
                printError("memhp: \(scenario): the scenario did not complete\(why)")
                throw ExitCode(1)
            }
            m = b
        } else {
            m = try machine.host.boot(seed: machine.seed) ?? bootWithColdPlug(try machine.config())
        }
        let fs = KernelFS(machine: m)
        // Only a session that will be saved keeps a journal.
        fs.journaling = state != nil
        try prepare(fs)
        try applyWrites(fs)
        return fs
    }

    /// Load the --module modules (a module already loaded, e.g. by a saved state, is kept),
    /// and hook --trace. A load is journaled, so a saved state loads it again.
    func prepare(_ fs: KernelFS) throws {
        for name in modules {
            do {
                try fs.perform(event: "module \(name)") { m in try loadModuleOnce(m, name) }
            } catch let e as KernelError {
                throw ValidationError("--module \(name): \(e.reason)")
            }
        }
        guard trace else { return }
        fs.writeObserver = { record in printError("memhp: " + record.summary) }
    }

    func applyWrites(_ fs: KernelFS) throws {
        for w in writes {
            guard let eq = w.firstIndex(of: "="), w.hasPrefix("/") else {
                throw ValidationError("--write \(w): expected /PATH=VALUE")
            }
            let path = String(w[..<eq]), value = String(w[w.index(after: eq)...])
            do { try fs.write(path, value + "\n") } catch let e as KernelError {
                printError("memhp: write \(value) to \(path): \(e.errno.message)")
                throw ExitCode(1)
            }
        }
    }

    /// Save the machine to `--state` if one was given (mount and sandbox call this when done).
    func save(_ fs: KernelFS, machine: MachineOptions) throws {
        guard let state else { return }
        let (journal, saved) = fs.withLock { _ in (fs.journal, fs.savedSession) }
        let session = SavedSession(
            options: saved?.options ?? machine.arguments,
            setupWrites: saved?.setupWrites ?? writes, entries: journal)
        try SavedState.write(state, session)
    }
}

/// `modprobe NAME`: a module already loaded (by a saved state) stays as it is.
func loadModuleOnce(_ m: Machine, _ name: String) throws {
    do { try m.loadModule(name) } catch let e as KernelError where e.errno == .fileExists {}
}

/// Loading and saving `SavedSession` files.
enum SavedState {
    /// Boot the saved machine and replay its journal. Errors name FILE:LINE and exit 2.
    static func load(_ path: String) throws -> (KernelFS, SavedSession) {
        let text: String
        do { text = try readTextFile(path) } catch { throw ValidationError("--state \(describe(error))") }
        let session: SavedSession
        do { session = try SavedSession(parsing: Array(text.utf8), file: path) } catch let e as SessionFileError {
            throw ValidationError(e.description)
        }
        let machine: MachineOptions
        do { machine = try MachineOptions.parse(session.options) } catch {
            throw ValidationError(
                "\(path):\(session.optionsLine): the saved machine options: \(MachineOptions.message(for: error))")
        }
        let fs = KernelFS(machine: try machine.host.boot(seed: machine.seed) ?? bootWithColdPlug(try machine.config()))
        fs.journaling = true
        do {
            try fs.replay(
                session.entries,
                events: { text, m in
                    let parts = text.split(separator: " ")
                    guard parts.count == 2, parts[0] == "module" else {
                        throw ReplayError(index: 0, message: "unknown event `\(text)`")
                    }
                    try loadModuleOnce(m, String(parts[1]))
                })
        } catch let e as ReplayError {
            let line = e.index < session.entryLines.count ? session.entryLines[e.index] : 1
            throw ValidationError("\(path):\(line): \(e.message)")
        }
        fs.savedSession = SavedSession(options: session.options, setupWrites: session.setupWrites, entries: [])
        return (fs, session)
    }

    /// Written to a temporary file and renamed over the old one: a crash leaves either.
    static func write(_ path: String, _ session: SavedSession) throws {
        do {
            try writeTextFile(String(decoding: session.encoded(), as: UTF8.self), to: path)
        } catch {
            printError("memhp: cannot save the state to \(describe(error))")
            throw ExitCode(1)
        }
    }
}

/// `Machine.boot` plus ACPI's cold plug of the DIMMs QEMU placed, as the kernel does while
/// booting (done here only when the boot has not done it already).
func bootWithColdPlug(_ config: MachineConfig) throws -> Machine {
    let m: Machine
    do { m = try Machine.boot(config) } catch let e as MachineConfigError { throw ValidationError(e.message) }
    warnAboutRefusedDIMMs(m)
    if let d = m.layout?.dimms.first(where: { $0.accepted }), m.blockPages > 0,
        m.blocks[d.start / (m.blockPages << 12)] == nil
    {
        try m.acpiColdPlugDIMMs()
    }
    return m
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
