import ArgumentParser
import Foundation
import Snapshot

/// `memhp snapshot`: capture this host's memory state through its kernel files (read-only).
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Capture the host's memory layout, zones, blocks, pools and per-page census (read-only).",
        discussion: """
            Reads /sys/firmware/memmap, /proc/iomem, /proc/zoneinfo, /proc/pagetypeinfo, /proc/meminfo, \
            /sys/devices/system/{memory,node}, /sys/kernel/mm/hugepages, /proc/sys/vm, the memory_hotplug \
            module parameters, and /proc/kpageflags + /proc/kpagecount (root) into one file (docs/snapshot.md). \
            Nothing is written to /sys or /proc. Without root it records what it could not read, and why.
            """)

    @Option(name: .shortAndLong, help: "Write the snapshot here (default: snapshot.memhp).")
    var output = "snapshot.memhp"

    @Option(help: "Read the kernel files under this directory instead of / (a `memhp export` tree, a fixture).")
    var root = "/"

    @Flag(help: "Skip the per-page census (/proc/kpageflags).")
    var noCensus = false

    @Option(
        help:
            "Build the snapshot from a `memhp kernel-run` log whose scenario ran `dump blocks zones hugepages params layout kpageflags` (a real guest's state)."
    )
    var fromLog: String?

    func run() throws {
        if let fromLog {
            let text: String
            do { text = try readTextFile(fromLog) } catch { throw ValidationError("--from-log \(describe(error))") }
            let r: GuestLog.Result
            do { r = try GuestLog.parse(text, path: fromLog) } catch let e as GuestLog.Failure {
                throw ValidationError(e.description)
            }
            let bytes = try SnapshotFile.write(output, r.snapshot, census: r.census)
            printError(
                "memhp: \(output): \(bytes) bytes from \(fromLog) (kernel \(r.snapshot.kernelRelease ?? "?"), \(r.snapshot.blocks.count) blocks, census of \(r.census.endPFN) pfns in \(r.census.runCount) runs)"
            )
            return
        }
        let t0 = Date()
        let (s, census) = SnapshotCapture(root: HostRoot(root), census: !noCensus).capture()
        let bytes: Int
        do { bytes = try SnapshotFile.write(output, s, census: census) } catch {
            printError("memhp: cannot write \(output): \(error.localizedDescription)")
            throw ExitCode(1)
        }
        let secs = Date().timeIntervalSince(t0)
        let ram = s.blocks.filter { $0.state == "online" }.count * s.blockSizeBytes
        var line =
            "memhp: \(output): \(bytes) bytes, \(s.blocks.count) blocks of \(s.blockSizeBytes >> 20) MiB, \(s.zones.count) zones"
        if let c = census { line += ", census of \(c.endPFN) pfns in \(c.runCount) runs" }
        line += String(format: ", %.2f s", secs)
        if ram > 0 { line += String(format: " (%.5f%% of online memory)", Double(bytes) * 100 / Double(ram)) }
        printError(line)
        for m in s.missing { printError("memhp: missing \(m.path): \(m.why) — \(m.effect)") }
    }
}

/// Where a command gets a host from: a snapshot file, or the live host (read now, not saved).
struct HostSourceOptions: ParsableArguments {
    @Option(help: "A snapshot written by `memhp snapshot`; without it the live host is read (read-only).")
    var snapshot: String?

    @Option(help: "With no --snapshot: read the kernel files under this directory instead of /.")
    var root = "/"

    /// The host's snapshot and census; a bad file or an unusable host is a usage error (exit 2).
    func load() throws -> (HostSnapshot, PageCensus?, String) {
        let s: HostSnapshot, c: PageCensus?, name: String
        if let snapshot {
            do { (s, c) = try SnapshotFile.read(snapshot) } catch let e as SnapshotFile.FormatError {
                throw ValidationError(e.description)
            }
            name = snapshot
        } else {
            (s, c) = SnapshotCapture(root: HostRoot(root)).capture()
            name = root == "/" ? "this host" : root
        }
        // A file's header is its line 2.
        do { try SnapshotCheck.check(s, source: snapshot.map { "\($0):2" } ?? name) } catch let e
            as SnapshotCheck.Unusable
        {
            throw ValidationError(e.description)
        }
        return (s, c, name)
    }
}
