import ArgumentParser
import MemoryModel

/// The machine options every command that builds a machine shares, with QEMU's meaning
/// and defaults (`-m 1G,slots=4,maxmem=4G`, `-device pc-dimm`, `-numa node`, `-append`).
struct MachineOptions: ParsableArguments {
    @Option(help: "Boot memory (-m), e.g. 1G, 512M; a bare number is MiB as in QEMU.")
    var mem: String = "1G"
    @Option(help: "maxmem=: boot memory plus every DIMM that may ever be plugged.")
    var maxmem: String = "4G"
    @Option(help: "slots=: DIMM slots.")
    var slots: Int = 4
    @Option(name: .customLong("dimm"), help: "A cold-plugged DIMM: SIZE[@NODE] (repeatable), e.g. 512M or 512M@1.")
    var dimms: [String] = []
    @Option(help: "NUMA nodes' boot memory, comma separated, e.g. 768M,256M (node 0, node 1, ...).")
    var nodes: String?
    @Option(help: "Kernel command line (-append), e.g. 'movablecore=256M hugetlb_free_vmemmap=on'.")
    var cmdline: String = ""
    @Flag(help: "The CPU has 1 GiB pages (-cpu qemu64,+pdpe1gb).")
    var gbpages = false
    @Option(help: "Seed for every random choice the model makes.")
    var seed: UInt64 = 1

    func config() throws -> MachineConfig {
        var c = MachineConfig(memBytes: try parseSize(mem, option: "--mem"),
                              maxmemBytes: try parseSize(maxmem, option: "--maxmem"),
                              slots: slots, cmdline: cmdline, gbpages: gbpages, seed: seed)
        guard slots >= 0 && slots <= 256 else { throw ValidationError("--slots: \(slots) is not between 0 and 256") }
        for (i, d) in dimms.enumerated() {
            let parts = d.split(separator: "@", maxSplits: 1).map(String.init)
            let node = parts.count > 1 ? Int(parts[1]) : 0
            guard let node, node >= 0 else { throw ValidationError("--dimm \(d): node must be a number >= 0") }
            c.dimms.append(DIMMConfig(id: "dimm\(i + 1)", sizeBytes: try parseSize(parts[0], option: "--dimm"), node: node))
        }
        if let nodes {
            c.nodes = try nodes.split(separator: ",").enumerated().map { i, s in
                NodeConfig(id: i, memBytes: try parseSize(String(s), option: "--nodes"))
            }
        }
        return c
    }
}

/// QEMU-style sizes: a number with an optional K/M/G/T suffix (powers of 1024); a bare
/// number means MiB, as `-m` reads it.
func parseSize(_ text: String, option: String) throws -> Int {
    let t = text.filter { $0 != " " && $0 != "\t" }
    guard let last = t.last else { throw ValidationError("\(option): empty size") }
    let shifts: [Character: Int] = ["K": 10, "k": 10, "M": 20, "m": 20, "G": 30, "g": 30, "T": 40, "t": 40]
    let (digits, shift) = shifts[last].map { (String(t.dropLast()), $0) } ?? (t, 20)
    guard !digits.isEmpty, digits.allSatisfy(\.isNumber), let n = Int(digits) else {
        throw ValidationError("\(option): '\(text)' is not a size (expected e.g. 512M, 1G, 2T)")
    }
    let (v, overflow) = n.multipliedReportingOverflow(by: 1 << shift)
    guard !overflow, v <= 1 << 52 else { throw ValidationError("\(option): '\(text)' is larger than 4 PiB") }
    return v
}

extension MachineOptions {
    /// The options as command-line arguments, so a saved state can boot the same machine.
    var arguments: [String] {
        var a = ["--mem", mem, "--maxmem", maxmem, "--slots", "\(slots)", "--cmdline", cmdline, "--seed", "\(seed)"]
        for d in dimms { a += ["--dimm", d] }
        if let nodes { a += ["--nodes", nodes] }
        if gbpages { a.append("--gbpages") }
        return a
    }

    /// Boot the machine, turning a refused configuration into a usage error (exit status 2).
    func boot() throws -> Machine {
        let c = try config()
        do { return try Machine.boot(c) } catch let e as MachineConfigError {
            throw ValidationError(e.message)
        }
    }
}
