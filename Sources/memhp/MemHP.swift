import ArgumentParser
import Foundation

struct MemHP: ParsableCommand {
    /// `memhp --version`; also the man page's version line.
    static let version = "0.9.0"

    static let configuration = CommandConfiguration(
        commandName: "memhp",
        abstract: "Linux 6.1 memory hotplug and HugeTLB Vmemmap Optimization, as a deterministic model.",
        discussion: """
            Without a command, memhp runs `demo`. Sizes are read as QEMU 7.2 reads the option each \
            stands for: --mem and --nodes as -m (a bare number is MiB), --maxmem and --dimm as \
            maxmem= and size= (a bare number is bytes); suffixes B, K, M, G, T, P, E are powers of \
            1024 and a fraction needs one (1.5G). Exit status: 0 on success, 1 when the model or a \
            kernel file refused an operation, 2 for a usage error (a bad option, a machine QEMU \
            would refuse, a malformed file, reported as FILE:LINE).
            """,
        version: "memhp \(version) (a model of Linux 6.1 memory hotplug on QEMU 7.2's pc machine)",
        subcommands: [
            DemoCommand.self, BootCommand.self, ReadCommand.self, BenchCommand.self, KernelRunCommand.self,
            RunCommand.self, ConformanceCommand.self, ExportCommand.self, MountCommand.self, SandboxCommand.self,
            CampaignCommand.self, FuzzCommand.self, SnapshotCommand.self, PredictCommand.self, HostCommand.self,
            StudyCommand.self
        ]
    )
}

/// Parse, run, and turn every error into a message and an exit status: 2 for usage errors
/// (with the usage of the subcommand they belong to), the command's own status otherwise.
@main
enum Main {
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.isEmpty { arguments = ["demo"] }
        exit(run(arguments))
    }

    /// The whole command line's life, minus the process exit (tests call this).
    static func run(_ arguments: [String]) -> Int32 {
        if let first = arguments.first, !first.hasPrefix("-"), first != "help",
            !MemHP.configuration.subcommands.contains(where: { $0.configuration.commandName == first })
        {
            let names = MemHP.configuration.subcommands.compactMap { $0.configuration.commandName }
            printError("memhp: unknown command '\(first)'; the commands are \(names.joined(separator: ", "))")
            printError("See 'memhp --help' for more information.")
            return 2
        }
        let command: ParsableCommand
        do {
            command = try MemHP.parseAsRoot(arguments)
        } catch {
            return report(parseError: error, arguments: arguments)
        }
        return execute(command, arguments: arguments)
    }

    /// Run a parsed command and turn what it throws into a message and an exit status
    /// (tests run one parsed command many times, on files whose content changes).
    static func execute(_ parsed: ParsableCommand, arguments: [String]) -> Int32 {
        var command = parsed
        return status(of: type(of: parsed), arguments: arguments) { try command.run() }
    }

    /// What `sub`'s `body` threw, as a message on stderr and an exit status (0 for nothing).
    static func status(of sub: ParsableCommand.Type, arguments: [String], _ body: () throws -> Void) -> Int32 {
        do {
            try body()
            return 0
        } catch let code as ExitCode {
            return code.rawValue
        } catch let e as ValidationError {
            let name = sub == MemHP.self ? "memhp" : "memhp \(sub.configuration.commandName ?? "")"
            printError("\(name): \(e.message)")
            printError(MemHP.usageString(for: sub))
            printError("  See '\(name) --help' for more information.")
            return 2
        } catch let e as FileError {
            printError("memhp: \(e)")
            return 2
        } catch let e as CocoaError {
            printError("memhp: \(describe(e))")
            return 2
        } catch {
            // `memhp help boot` runs ArgumentParser's help command, which "fails" with the help.
            return report(parseError: error, arguments: arguments)
        }
    }

    /// ArgumentParser's own message for a parse error (help, --version and completion
    /// scripts are "errors" that exit 0 and print to stdout).
    static func report(parseError error: Error, arguments: [String]) -> Int32 {
        let code = MemHP.exitCode(for: error)
        var text = MemHP.fullMessage(for: error)
        if code == .success {
            print(text)
            return 0
        }
        if text.hasPrefix("Error: ") { text.removeFirst(7) }
        let sub = arguments.first.flatMap { a in
            MemHP.configuration.subcommands.first { $0.configuration.commandName == a }?.configuration.commandName
        }
        printError((sub.map { "memhp \($0): " } ?? "memhp: ") + text)
        if sub == "sandbox" && !arguments.contains("--") && !text.contains("`--`") {
            printError("memhp sandbox runs a COMMAND: \(SandboxCommand.howToUseTerminator)")
        }
        return 2
    }
}
