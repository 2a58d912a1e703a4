import ArgumentParser
import Foundation
import KernelRunner
import Scenario

/// `memhp kernel-run SCENARIO`: runs a scenario on the real Linux 6.1 kernel under QEMU TCG and
/// writes the observation log (the truth the model's log is diffed against).
struct KernelRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel-run",
        abstract: "Run a scenario on the real kernel (Debian's 6.1 under QEMU TCG) and write its observation log.",
        discussion: """
            Needs scripts/kernel-setup.sh to have run (QEMU, busybox-static, cpio, gcc, and the kernel \
            unpacked into /var/cache/memhp/kernel-<abi>). Exit status: 0 when the guest ran every step, \
            1 when the run timed out, panicked or lost the guest (the log keeps what was captured), \
            2 for a malformed scenario.
            """)

    @Argument(help: "The scenario file (.scn).")
    var scenario: String

    @Option(name: .shortAndLong, help: "Write the observation log here instead of stdout.")
    var output: String?

    @Option(help: "The unpacked kernel (default: the newest /var/cache/memhp/kernel-*).")
    var kernelDir: String?

    @Option(help: "Keep the initramfs, console.log and qemu.log in this directory.")
    var workDir: String?

    @Option(help: "Also save the kernel console (ttyS0) here.")
    var console: String?

    @Option(help: "Fixture directory whose recorded kernel versions are checked against what Debian serves.")
    var fixtures: String = "tests/conformance"

    @Option(help: "Override the scenario's `timeout:` (seconds).")
    var timeout: Int?

    @Flag(help: "Boot the compressed vmlinuz rather than the PVH ELF kernel-setup extracted (same guest, slower).")
    var bzimage = false

    func run() throws {
        var sc = try loadScenario(scenario)
        if let timeout { sc.timeoutSeconds = timeout }

        let kernel: KernelInstall
        if let kernelDir {
            kernel = try KernelInstall(dir: kernelDir)
        } else {
            guard let k = KernelInstall.newestCached() else {
                FileHandle.standardError.write(
                    Data("memhp: no kernel in \(KernelInstall.defaultCache); run scripts/kernel-setup.sh\n".utf8))
                throw ExitCode(1)
            }
            kernel = k
        }
        for note in kernel.freshnessNotes(fixtureVersions: KernelInstall.fixtureVersions(in: fixtures)) {
            FileHandle.standardError.write(Data("memhp: note: \(note)\n".utf8))
        }

        var opt = KernelRunOptions(kernel: kernel)
        opt.workDir = workDir
        opt.pvh = !bzimage
        opt.log = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        let result = try KernelRunner(scenario: sc, options: opt).run()
        if let output {
            try writeTextFile(result.text, to: output)
        } else {
            FileHandle.standardOutput.write(Data(result.text.utf8))
        }
        if let console { try writeTextFile(result.console, to: console) }
        if result.guestOOMKilled {
            FileHandle.standardError.write(
                Data(
                    "memhp: kernel run of \(sc.name) ended when the OOM killer killed the guest program (then: \(result.failure ?? "?"))\n"
                        .utf8))
            throw ExitCode(1)
        }
        if !result.completed {
            FileHandle.standardError.write(
                Data("memhp: kernel run of \(sc.name) did not complete: \(result.failure ?? "?")\n".utf8))
            throw ExitCode(1)
        }
    }
}
