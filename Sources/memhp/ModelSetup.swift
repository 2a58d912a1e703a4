import ArgumentParser
import Foundation
import KernelFS
import MemoryModel
import Scenario

/// How `export`, `mount` and `sandbox` prepare the machine they serve: boot it from the
/// machine options (or a scenario's header), run a scenario's steps, then apply writes.
struct ModelSetupOptions: ParsableArguments {
    @Option(help: "Run this scenario's steps first; its header (mem:, dimm:, ...) then describes the machine and the machine options are ignored.")
    var scenario: String?

    @Option(name: .customLong("write"), help: ArgumentHelp(
        "PATH=VALUE: write VALUE plus a newline to a kernel file before serving (repeatable, in order), e.g. /sys/devices/system/memory/memory32/state=online_movable. A refused write is an error.",
        valueName: "path=value"))
    var writes: [String] = []

    @Option(help: "A saved machine state: start from it when the file exists (its machine, not the options given), and save the state back to it at the end, atomically.")
    var state: String?

    @Option(name: .customLong("module"), help: ArgumentHelp(
        "Load a kernel module the model provides before serving (repeatable): memory-notifier-error-inject, whose debugfs files under /sys/kernel/debug/notifier-error-inject then exist.",
        valueName: "name"))
    var modules: [String] = []

    @Flag(help: "Print every write to stderr with the kernel's answer and, when the model explains it, why (what dynamic debug would show on Linux).")
    var trace = false

    /// The prepared tree. Failed writes exit with status 1 and the kernel's error text.
    func makeKernelFS(_ machine: MachineOptions) throws -> KernelFS {
        if let state {
            guard scenario == nil else { throw ValidationError("--state cannot be combined with --scenario") }
            if FileManager.default.fileExists(atPath: state) {
                let fs = try SavedState.load(state)
                try prepare(fs)
                try applyWrites(fs)
                return fs
            }
        }
        let m: Machine
        if let scenario {
            let sc = try loadScenario(scenario)
            var booted: Machine?
            let result = ModelRunner(scenario: sc, boot: { cfg in
                let m = try bootWithColdPlug(cfg)
                booted = m
                return m
            }).run()
            guard let b = booted, result.completed else {
                printError("memhp: \(scenario): the scenario did not complete")
                throw ExitCode(1)
            }
            m = b
        } else {
            m = try bootWithColdPlug(try machine.config())
        }
        let fs = KernelFS(machine: m)
        try prepare(fs)
        try applyWrites(fs)
        return fs
    }

    /// Load the --module modules, and hook --trace.
    func prepare(_ fs: KernelFS) throws {
        for name in modules {
            do { try fs.withLock { try $0.loadModule(name) } } catch let e as KernelError {
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
        let options = FileManager.default.fileExists(atPath: state) ? try SavedState.options(state) : machine.arguments
        try SavedState.write(state, options: options, journal: fs.withLock { _ in fs.journal })
    }
}

/// A machine state that outlives a process: the machine options and the journal of accepted
/// writes, replayed on load (the model is deterministic). Text, one item a line:
/// `memhp-state 1`, `option ARG` per command-line argument, `write PATH HEXBYTES` per write.
enum SavedState {
    static func options(_ path: String) throws -> [String] { try parse(path).options }

    static func parse(_ path: String) throws -> (options: [String], writes: [(String, [UInt8])]) {
        let text: String
        do { text = try readTextFile(path) } catch { throw ValidationError("--state \(describe(error))") }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard lines.first == "memhp-state 1" else { throw ValidationError("\(path):1: expected `memhp-state 1`") }
        var options: [String] = [], writes: [(String, [UInt8])] = []
        for (i, line) in lines.enumerated().dropFirst() {
            if line.hasPrefix("option ") { options.append(String(line.dropFirst(7))); continue }
            let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
            guard parts.count >= 2, parts[0] == "write", let bytes = hexDecode(parts.count == 3 ? parts[2] : "") else {
                throw ValidationError("\(path):\(i + 1): expected `option ARG` or `write PATH HEX`")
            }
            writes.append((parts[1], bytes))
        }
        return (options, writes)
    }

    /// Boot the saved machine and replay its writes; a write that no longer succeeds means the
    /// file does not describe a state this model can reach.
    static func load(_ path: String) throws -> KernelFS {
        let (options, writes) = try parse(path)
        let machine = try MachineOptions.parse(options)
        let fs = KernelFS(machine: try bootWithColdPlug(try machine.config()))
        for (p, bytes) in writes {
            do { try fs.write(p, bytes) } catch let e as KernelError {
                throw ValidationError("--state \(path): replaying the write to \(p) failed (\(e.errno.message))")
            }
        }
        return fs
    }

    /// Written to a temporary file and renamed over the old one: a crash leaves either.
    static func write(_ path: String, options: [String], journal: [(path: String, bytes: [UInt8])]) throws {
        var text = "memhp-state 1\n"
        for o in options { text += "option \(o)\n" }
        for (p, b) in journal { text += "write \(p) \(b.map { String(format: "%02x", $0) }.joined())\n" }
        do {
            try writeTextFile(text, to: path)
        } catch {
            printError("memhp: cannot save the state to \(describe(error))")
            throw ExitCode(1)
        }
    }

    static func hexDecode(_ s: String) -> [UInt8]? {
        let chars = Array(s.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let v = UInt8(String(decoding: chars[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(v); i += 2
        }
        return out
    }
}

/// `Machine.boot` plus ACPI's cold plug of the DIMMs QEMU placed, as the kernel does while
/// booting (done here only when the boot has not done it already).
func bootWithColdPlug(_ config: MachineConfig) throws -> Machine {
    let m: Machine
    do { m = try Machine.boot(config) } catch let e as MachineConfigError { throw ValidationError(e.message) }
    warnAboutRefusedDIMMs(m)
    if let d = m.layout?.dimms.first(where: { $0.accepted }), m.blockPages > 0,
       m.blocks[d.start / (m.blockPages << 12)] == nil {
        try m.acpiColdPlugDIMMs()
    }
    return m
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
