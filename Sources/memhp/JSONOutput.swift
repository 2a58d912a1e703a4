import Foundation
import MemoryModel
import Scenario

// `--json` results (`boot`, `demo`): the keys are snake_case, sorted, and documented in
// docs/json.md; sizes are bytes as JSON numbers, addresses are "0x..." strings. A key is
// added, never renamed or removed, without a new `format` number.

/// The version of the JSON layout, the `format` key of every object.
let jsonFormat = 1

func encodeJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// The machine QEMU was asked for, and where it put the DIMMs.
struct MachineSummary: Encodable {
    struct DIMM: Encodable {
        var id: String
        var sizeBytes: Int
        var node: Int
        var start: String
        /// The kernel's add_memory() took it (false: see `refused`).
        var added: Bool
        var refused: String?
        enum CodingKeys: String, CodingKey { case id, sizeBytes = "size_bytes", node, start, added, refused }
    }
    var memBytes: Int
    var maxmemBytes: Int
    var slots: Int
    var nodeBytes: [Int]
    var cmdline: String
    var gbpages: Bool
    var seed: UInt64
    var dimms: [DIMM]
    var memoryBlockBytes: Int
    enum CodingKeys: String, CodingKey {
        case memBytes = "mem_bytes", maxmemBytes = "maxmem_bytes", slots, nodeBytes = "node_bytes", cmdline, gbpages, seed, dimms
        case memoryBlockBytes = "memory_block_bytes"
    }

    init(_ m: Machine) {
        let c = m.config
        memBytes = c.memBytes; maxmemBytes = c.maxmemBytes; slots = c.slots
        nodeBytes = c.nodes.map(\.memBytes); cmdline = c.cmdline; gbpages = c.gbpages; seed = c.seed
        dimms = (m.layout?.dimms ?? []).map {
            DIMM(id: $0.id, sizeBytes: $0.sizeBytes, node: $0.node, start: "0x" + String($0.start, radix: 16),
                 added: $0.accepted, refused: $0.refusedReason)
        }
        memoryBlockBytes = m.blockPages << Geometry.pageShift
    }
}

/// `memhp boot --json`.
struct BootReport: Encodable {
    var format = jsonFormat
    var machine: MachineSummary
    var dmesg: [String]?
    var files: [String: String] = [:]
    var memoryBlocks: [MemoryBlockSummary]?
    /// Paths that could not be read, with the errno's symbol.
    var errors: [String: String] = [:]
    enum CodingKeys: String, CodingKey { case format, machine, dmesg, files, memoryBlocks = "memory_blocks", errors }
}
