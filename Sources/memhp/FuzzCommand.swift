import ArgumentParser
import Foundation
import Soak

/// `memhp fuzz`: the fuzz-and-soak harness. Exits 1 if it found a violation.
struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract:
            "Random writes, reads, allocations, OOM, hot-plug and concurrent bursts on the model, with verify() and exact save/reload checks.",
        discussion: """
            Every random choice comes from --seed. verify() runs every --verify-every operations; every \
            --reload-every operations the session is saved in the --state text form, reloaded into a freshly \
            booted machine and compared file by file, and the reloaded machine carries on. The machine is \
            rebooted every --epoch operations so a run can last hours. Exits 1 on any violation.
            """)

    @Option(help: "Operations to run.") var ops = 10_000
    @Option(help: "The seed of every random choice.") var seed: UInt64 = 1
    @Option(help: "verify() every N operations.") var verifyEvery = 1_000
    @Option(help: "Save and reload every N operations.") var reloadEvery = 10_000
    @Option(help: "Reboot the machine every N operations.") var epoch = 20_000
    @Flag(help: "No concurrent bursts (a fully deterministic run).") var noConcurrency = false

    func validate() throws {
        guard ops >= 0, verifyEvery > 0, reloadEvery > 0, epoch > 0 else {
            throw ValidationError("--ops must be ≥ 0 and --verify-every, --reload-every, --epoch > 0")
        }
    }

    func run() throws {
        var o = SoakOptions()
        o.ops = ops; o.seed = seed; o.verifyEvery = verifyEvery; o.reloadEvery = reloadEvery
        o.epochOps = epoch; o.concurrency = !noConcurrency
        let soak = try Soak(options: o)
        soak.progress = { printError($0) }
        let r = soak.run()
        print(
            """
            fuzz: seed \(seed): \(r.ops) ops (\(r.writes) writes, \(r.refusedWrites) refused; \(r.reads) reads; \
            \(r.attributeChanges) chmod/chown; \(r.events) events; \(r.bursts) concurrent bursts) on \(r.boots) boots; \
            \(r.verifies) verify(), \(r.reloads) save/reloads (\(r.journalEntriesReplayed) journal entries replayed) \
            in \(String(format: "%.1f", r.seconds)) s (\(String(format: "%.1f", r.cpuSeconds)) s CPU); violations: \
            \(r.violations.count)
            """)
        for v in r.violations { print("violation: \(v)") }
        if !r.violations.isEmpty { throw ExitCode(1) }
    }
}
