import ArgumentParser
import MemoryModel
import Scenario

/// The machine options every command that builds a machine shares, with QEMU's meaning
/// and defaults (`-m 1G,slots=4,maxmem=4G`, `-device pc-dimm`, `-numa node`, `-append`).
/// Sizes parse as QEMU 7.2 parses the option each stands for (`QEMUSize`): `--mem` and
/// `--nodes` are `-m` and `-numa node,mem=` (a bare number is MiB), `--maxmem` and `--dimm`
/// are `maxmem=` and a memory backend's `size=` (a bare number is bytes).
///
/// Size options parse `.unconditional`ly so that `--mem -1` reaches the size parser and
/// gets a message about sizes, not "Missing value".
struct MachineOptions: ParsableArguments {
    static let defaultMaxmem = "4G"

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Boot memory, as QEMU's -m: 1G, 1.5G, 512M; a bare number is MiB.", valueName: "size"))
    var mem: String = "1G"
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "maxmem=: boot memory plus every DIMM that may ever be plugged (default: \(MachineOptions.defaultMaxmem)); a bare number is bytes, as in QEMU.",
            valueName: "size"))
    var maxmem: String?
    @Option(parsing: .unconditional, help: "slots=: DIMM slots (0-256).")
    var slots: Int = 4
    @Option(
        name: .customLong("dimm"), parsing: .unconditionalSingleValue,
        help: ArgumentHelp(
            "A cold-plugged pc-dimm: SIZE[@NODE] (repeatable), e.g. 512M or 512M@1; a bare number is bytes, as in QEMU's size=. The guest adds only DIMMs that are a multiple of the 128 MiB memory block.",
            valueName: "size[@node]"))
    var dimms: [String] = []
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "NUMA nodes' boot memory, comma separated (node 0, node 1, ...), adding up to --mem, e.g. 768M,256M; a bare number is MiB, as in -numa node,mem=.",
            valueName: "size,..."))
    var nodes: String?
    @Option(help: "Kernel command line (-append), e.g. 'movablecore=256M hugetlb_free_vmemmap=on'.")
    var cmdline: String = ""
    @Flag(help: "The CPU has 1 GiB pages (-cpu qemu64,+pdpe1gb).")
    var gbpages = false
    @Option(parsing: .unconditional, help: "Seed for every random choice the model makes.")
    var seed: UInt64 = 1
    @OptionGroup var host: SnapshotOptions

    /// Checked while parsing, so that a refused machine is a usage error of the subcommand
    /// it was given to (with that subcommand's usage).
    func validate() throws {
        if host.snapshot != nil { return }  // SnapshotOptions.validate checks the file
        _ = try layout()
    }

    func config() throws -> MachineConfig {
        guard (0...256).contains(slots) else {
            throw ValidationError("--slots \(slots): not between 0 and 256 (QEMU's limit, ACPI_MAX_RAM_SLOTS)")
        }
        // machine_set_mem: QEMU rounds -m up to 8 KiB.
        let memBytes = roundUp(try parseSize(mem, option: "--mem"), 8192)
        guard memBytes > 0 else {
            throw ValidationError(
                "--mem \(mem): the machine needs memory (QEMU would silently use its 128 MiB default for -m 0)")
        }
        var c = MachineConfig(
            memBytes: memBytes,
            maxmemBytes: try parseSize(maxmem ?? Self.defaultMaxmem, option: "--maxmem", bareIsMiB: false),
            slots: slots, cmdline: cmdline, gbpages: gbpages, seed: seed)
        for (i, d) in dimms.enumerated() {
            let parts = d.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            var node = 0
            if parts.count > 1 {
                guard let n = Int(parts[1]), n >= 0 else {
                    throw ValidationError("--dimm \(d): the node after @ must be a number >= 0")
                }
                node = n
            }
            c.dimms.append(
                DIMMConfig(
                    id: "dimm\(i + 1)", sizeBytes: try parseSize(parts[0], option: "--dimm", bareIsMiB: false),
                    node: node))
        }
        if let nodes {
            c.nodes = try nodes.split(separator: ",", omittingEmptySubsequences: false).enumerated().map { i, s in
                NodeConfig(id: i, memBytes: try parseSize(String(s), option: "--nodes"))
            }
        }
        return c
    }

    /// QEMU's placement and the kernel's boot layout, or why QEMU would refuse the machine;
    /// when the refusal is about maxmem and `--maxmem` was left at its default, say so.
    func layout() throws -> BootLayout {
        let c = try config()
        do { return try BootLayout.compute(c) } catch let e as MachineConfigError {
            var message = e.message
            if maxmem == nil, message.contains("maxmem") || message.contains("memory devices") {
                let devices = c.dimms.reduce(0) { $0 + $1.sizeBytes }
                let suggest = roundUp(max(2 * c.memBytes, c.memBytes + devices + (1 << 30)), 1 << 30)
                message +=
                    "\n(--maxmem defaults to \(Self.defaultMaxmem): give a larger one, e.g. --maxmem \(SizeParser.format(suggest)), or --slots 0 for a machine without memory hotplug)"
            }
            if message.contains("DIMM"),
                let bare = dimms.first(where: { $0.split(separator: "@").first?.last?.isNumber == true })
            {
                message +=
                    "\n(a bare --dimm size is bytes, as in QEMU's size=: \(bare) is \(bare.split(separator: "@")[0]) bytes; a unit says more, e.g. 512M)"
            }
            throw ValidationError(message)
        }
    }
}

/// A size option as QEMU reads it: `bareIsMiB` for `-m`-like options (`--mem`, `--nodes`,
/// `bench --boot-size`), else `qemu_strtosz` (a bare number is bytes). A size QEMU refuses,
/// or one beyond what the model boots, is a usage error naming the option.
func parseSize(_ text: String, option: String, bareIsMiB: Bool = true) throws -> Int {
    let value: Int
    do throws(QEMUSize.Failure) {
        value = bareIsMiB ? try SizeParser.checkedMiBDefault(text) : try SizeParser.checkedBytes(text)
    } catch {
        throw ValidationError("\(option) '\(text)': \(error)")
    }
    guard value <= 1 << 52 else {
        throw ValidationError("\(option) '\(text)': larger than 4 PiB, beyond what the model boots")
    }
    return value
}

extension MachineOptions {
    /// The options as command-line arguments, so a saved state can boot the same machine.
    var arguments: [String] {
        var a = [
            "--mem", mem, "--maxmem", maxmem ?? Self.defaultMaxmem, "--slots", "\(slots)", "--cmdline", cmdline,
            "--seed", "\(seed)"
        ]
        for d in dimms { a += ["--dimm", d] }
        if let nodes { a += ["--nodes", nodes] }
        if gbpages { a.append("--gbpages") }
        return a + host.arguments
    }

    /// Boot the machine, turning a refused configuration into a usage error (exit status 2),
    /// and say which DIMMs the guest did not take.
    func boot() throws -> Machine {
        if let m = try host.boot(seed: seed) { return m }
        let c = try config()
        let m: Machine
        do { m = try Machine.boot(c) } catch let e as MachineConfigError {
            throw ValidationError(e.message)
        }
        warnAboutRefusedDIMMs(m)
        return m
    }
}

/// QEMU plugs a DIMM of any multiple of its backend's 2 MiB alignment, but the kernel's
/// `add_memory()` (check_hotplug_memory_range) takes only whole memory blocks: the guest
/// refuses the rest with EINVAL, and the DIMM's memory never appears. Say so on stderr.
func warnAboutRefusedDIMMs(_ m: Machine) {
    guard let layout = m.layout else { return }
    for d in layout.dimms {
        guard let why = d.refusedReason else { continue }
        printError(
            "memhp: warning: DIMM \(d.id) (\(SizeParser.format(d.sizeBytes)) at \(hex(d.start))) is not in the guest: \(why)"
        )
    }
}

private func roundUp(_ v: Int, _ to: Int) -> Int { (v + to - 1) / to * to }
private func hex(_ v: Int) -> String { "0x" + String(v, radix: 16) }
