import ArgumentParser
import Foundation
import MemoryModel
import Scenario

/// `memhp run SCENARIO`: runs a scenario on the model and writes the observation log that
/// `memhp kernel-run` writes from the real kernel, so the two can be diffed.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a scenario on the model and write its observation log.",
        discussion: """
            The observation log goes to stdout (or -o FILE); the explain log — why the model did what \
            it did, in the kernel's words — to stderr (or --explain FILE). The same scenario and seed \
            always give the same log. With --snapshot the steps run on that host's machine instead of \
            the one the scenario's header describes. Exit status: 0 when every step ran, 1 when the machine could not \
            boot, 2 for a malformed scenario (reported as FILE:LINE: message).
            """)

    @Argument(help: "The scenario file (.scn).")
    var scenario: String

    @Option(name: .shortAndLong, help: "Write the observation log here instead of stdout.")
    var output: String?

    @Option(help: "Write the explain log here instead of stderr.")
    var explain: String?

    @Option(help: "Override the scenario's `seed:`.")
    var seed: UInt64?

    @Flag(help: "Print the model's wall-clock time to stderr.")
    var time = false

    @OptionGroup var host: SnapshotOptions

    func run() throws {
        var sc = try loadScenario(scenario)
        if let seed { sc.machine.seed = seed }
        let t0 = Date()
        let host = self.host
        let result = ModelRunner(scenario: sc, boot: { cfg in try host.boot(seed: cfg.seed) ?? Machine.boot(cfg) })
            .run()
        let wall = Date().timeIntervalSince(t0)
        if let output {
            try writeTextFile(result.text, to: output)
        } else {
            FileHandle.standardOutput.write(Data(result.text.utf8))
        }
        let explainText = result.explain.map { $0 + "\n" }.joined()
        if let explain {
            try writeTextFile(explainText, to: explain)
        } else {
            FileHandle.standardError.write(Data(explainText.utf8))
        }
        if time {
            FileHandle.standardError.write(
                Data("memhp: \(sc.name): model run took \(String(format: "%.3f", wall)) s\n".utf8))
        }
        if !result.completed { throw ExitCode(1) }
    }
}

/// Reads and parses a scenario; an unreadable or malformed file exits with status 2 after
/// printing `FILE:LINE: message`.
func loadScenario(_ path: String) throws -> Scenario {
    let text: String
    do { text = try readTextFile(path) } catch {
        printError("memhp: cannot read \(describe(error))")
        throw ExitCode(2)
    }
    // A file that does not end in a newline was cut short (a copy or download that stopped
    // mid-line): its last statement may parse as a different one ("online 3" of "online 32").
    if let last = text.split(separator: "\n", omittingEmptySubsequences: false).last,
        !last.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" })
    {
        let line = text.reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
        FileHandle.standardError.write(
            Data("\(path):\(line): the last line has no newline: the file was cut short\n".utf8))
        throw ExitCode(2)
    }
    do { return try Scenario.parse(text, file: path) } catch let e as ScenarioError {
        FileHandle.standardError.write(Data("\(e)\n".utf8))
        throw ExitCode(2)
    }
}
