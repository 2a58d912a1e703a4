import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

struct MemHP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memhp",
        abstract: "Linux 6.1 memory hotplug and HugeTLB Vmemmap Optimization, as a deterministic model.",
        subcommands: [DemoCommand.self, BootCommand.self, ReadCommand.self, BenchCommand.self, KernelRunCommand.self, RunCommand.self, ConformanceCommand.self, ExportCommand.self, MountCommand.self, SandboxCommand.self, StudyCommand.self],
        defaultSubcommand: DemoCommand.self
    )
}

/// Usage errors (bad options, a machine QEMU would refuse) exit with status 2, runtime
/// failures with the status the command chose.
@main
enum Main {
    static func main() {
        do {
            var command = try MemHP.parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            let exitCode = MemHP.exitCode(for: error)
            if exitCode == .success {
                print(MemHP.fullMessage(for: error))
                exit(0)
            }
            var stderr = StandardError()
            print("memhp: " + MemHP.fullMessage(for: error), to: &stderr)
            exit(2)
        }
    }
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) { fputs(string, Glibc.stderr) }
}
