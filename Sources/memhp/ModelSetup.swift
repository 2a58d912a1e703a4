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

    /// The prepared tree. Failed writes exit with status 1 and the kernel's error text.
    func makeKernelFS(_ machine: MachineOptions) throws -> KernelFS {
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
        return fs
    }
}

/// `Machine.boot` plus ACPI's cold plug of the DIMMs QEMU placed, as the kernel does while
/// booting (done here only when the boot has not done it already).
func bootWithColdPlug(_ config: MachineConfig) throws -> Machine {
    let m: Machine
    do { m = try Machine.boot(config) } catch let e as MachineConfigError { throw ValidationError(e.message) }
    if let d = m.layout?.dimms.first(where: { $0.accepted }), m.blockPages > 0,
       m.blocks[d.start / (m.blockPages << 12)] == nil {
        try m.acpiColdPlugDIMMs()
    }
    return m
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
