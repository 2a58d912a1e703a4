import Foundation

/// Runs each benchmark in a fresh child process (`memhp bench --child NAME`), so every peak
/// RSS (`VmHWM`) is that workload's own and a crash or a skipped case does not end the suite.
public enum ChildRunner {
    /// The child's side: run the case once and print its sample as one JSON line.
    /// Exit status 0 with a sample, 3 when skipped (reason on stdout as `{"skipped": ...}`).
    public static func childMain(_ name: String) -> Int32 {
        guard let c = ModelSuite.named(name) else {
            FileHandle.standardError.write(Data("memhp bench: no benchmark \(name)\n".utf8))
            return 2
        }
        do {
            var s = try c.body()
            s.peakRSSKiB = peakRSSKiB() ?? 0
            let data = try JSONEncoder().encode(s)
            FileHandle.standardOutput.write(data + Data("\n".utf8))
            return 0
        } catch let e as BenchSkipped {
            let data = (try? JSONEncoder().encode(["skipped": e.description])) ?? Data()
            FileHandle.standardOutput.write(data + Data("\n".utf8))
            return 3
        } catch {
            FileHandle.standardError.write(Data("memhp bench: \(name): \(error)\n".utf8))
            return 1
        }
    }

    /// `VmHWM` of /proc/self/status in KiB: the process's peak resident set.
    public static func peakRSSKiB() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    /// `MemAvailable` of /proc/meminfo in bytes (nil when unreadable).
    public static func hostAvailableBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "").map {
                $0 * 1024
            }
        }
        return nil
    }

    public enum Outcome { case sample(BenchSample), skipped(String), failed(String) }

    /// The parent's side: one run of `name` in a child of `executable`.
    public static func runChild(executable: String, name: String, extraArguments: [String]) -> Outcome {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = ["bench", "--child", name] + extraArguments
        let out = Pipe()
        p.standardOutput = out
        do { try p.run() } catch { return .failed("cannot start \(executable): \(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let line = data.split(separator: UInt8(ascii: "\n")).last.map { Data($0) } ?? Data()
        if p.terminationReason == .uncaughtSignal { return .failed("killed by signal \(p.terminationStatus)") }
        switch p.terminationStatus {
        case 0:
            guard let s = try? JSONDecoder().decode(BenchSample.self, from: line) else {
                return .failed("unreadable child output")
            }
            return .sample(s)
        case 3:
            let why = (try? JSONDecoder().decode([String: String].self, from: line))?["skipped"] ?? "skipped"
            return .skipped(why)
        default:
            return .failed("exit status \(p.terminationStatus)")
        }
    }
}
