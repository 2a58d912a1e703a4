import ArgumentParser
import Foundation
import MemoryModel
import Snapshot

/// `--snapshot FILE` and `--assume KEY=VALUE`: the machine is a real host's, as `memhp
/// snapshot` saved it (docs/snapshot.md), instead of a QEMU shape. Shared by every command
/// that takes a machine (boot, read, export, mount, sandbox through `MachineOptions`; run and
/// study directly).
struct SnapshotOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Start from a host's snapshot (`memhp snapshot -o FILE`) instead of booting a QEMU machine: its layout, nodes, zones, blocks, pools and every page where its census saw it. The QEMU machine options are then ignored (--seed still seeds the model).",
            valueName: "file"))
    var snapshot: String?

    @Option(
        name: .customLong("assume"),
        help: ArgumentHelp(
            "With --snapshot, what a snapshot cannot know (repeatable), as for `memhp predict`: pinned=START-END (pfns), ramfs=stuck|migrates, hvo=on|off|sysctl, flagless=auto|kernel|free, offline-pages=released|held, dirty=migrates|stuck.",
            valueName: "key=value"))
    var assume: [String] = []

    func validate() throws {
        guard let snapshot else {
            if let a = assume.first { throw ValidationError("--assume \(a): only with --snapshot FILE") }
            return
        }
        _ = try assumptions()
        // The file is checked while parsing, so a bad one is a usage error of the command
        // it was given to; the census is decoded again when the machine boots.
        let s: HostSnapshot, c: PageCensus?
        do { (s, c) = try SnapshotFile.read(snapshot) } catch let e as SnapshotFile.FormatError {
            throw ValidationError("--snapshot " + (e.line > 0 ? e.description : "\(snapshot): \(e.message)"))
        }
        // What the check refuses is in the header, line 2.
        do { try SnapshotCheck.check(s, source: "\(snapshot):2") } catch let e as SnapshotCheck.Unusable {
            throw ValidationError("--snapshot \(e.description)")
        }
        if (c?.endPFN ?? 0) == 0 {
            throw ValidationError(
                "--snapshot \(snapshot):2: no page census (the snapshot was taken without root), so the model cannot place its pages; take it as root"
            )
        }
    }

    func assumptions() throws -> Assumptions {
        var a = Assumptions()
        for t in assume {
            do { try a.apply(t) } catch let e as AssumptionError { throw ValidationError("--assume \(t): \(e)") }
        }
        return a
    }

    /// Boot the snapshot's machine (nil without --snapshot). Refusals are usage errors (exit 2).
    func boot(seed: UInt64) throws -> Machine? {
        guard let snapshot else { return nil }
        let a = try assumptions()
        do { return try SnapshotMachine.load(snapshot, assumptions: a, seed: seed) } catch let e
            as SnapshotMachine
            .Unusable
        {
            throw ValidationError("--snapshot \(e.description)")
        }
    }

    /// The options as arguments (the path made absolute), so a saved state boots it again.
    var arguments: [String] {
        guard let snapshot else { return [] }
        return ["--snapshot", URL(fileURLWithPath: snapshot).standardizedFileURL.path]
            + assume.flatMap { ["--assume", $0] }
    }
}
