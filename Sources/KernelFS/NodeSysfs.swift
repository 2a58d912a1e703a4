import MemoryModel

/// `/sys/devices/system/node` (drivers/base/node.c): the node state masks and, per node,
/// links to its memory blocks. Other areas (HugeTLB, meminfo) may add files under the same
/// directories; the tree merges them.
public enum NodeSysfsArea: KernelFileArea {
    public static let mountPoint = ["sys", "devices", "system", "node"]

    /// `%*pbl`: ascending ids with runs folded into `a-b`, comma separated.
    public static func nodeList(_ ids: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        let s = ids.sorted()
        while i < s.count {
            var j = i
            while j + 1 < s.count && s[j + 1] == s[j] + 1 { j += 1 }
            parts.append(i == j ? "\(s[i])" : "\(s[i])-\(s[j])")
            i = j + 1
        }
        return parts.joined(separator: ",") + "\n"
    }

    static func possible(_ m: Machine) -> [Int] { m.nodes.filter(\.exists).map(\.id) }

    static let rootFiles: [String: KernelFile] = [
        "possible": .readOnly { nodeList(possible($0)) },
        "online": .readOnly { nodeList(possible($0)) },
        "has_memory": .readOnly { nodeList($0.nodesWithMemory()) },
        "has_normal_memory": .readOnly { nodeList($0.nodesWithMemory(normalOnly: true)) }
    ]

    public static func lookup(_ relative: ArraySlice<String>, machine m: Machine) -> KernelNode? {
        guard let first = relative.first else {
            return .directory(
                .listed { m in Array(rootFiles.keys) + Array(moreRootFiles.keys) + possible(m).map { "node\($0)" } })
        }
        if relative.count == 1, let f = rootFiles[first] ?? moreRootFiles[first] { return .file(f) }
        guard first.hasPrefix("node"), let nid = Int(first.dropFirst(4)), String(nid) == first.dropFirst(4),
            possible(m).contains(nid)
        else { return nil }
        let files = nodeFiles(nid)
        if relative.count == 1 {
            return .directory(
                .listed { m in m.blocks.values.filter { $0.node == nid }.map { "memory\($0.id)" } + Array(files.keys) })
        }
        guard relative.count == 2 else { return nil }
        let name = relative[relative.startIndex + 1]
        if let f = files[name] { return .file(f) }
        // register_memory_block_under_node: the block's link is in its own node's directory.
        guard let id = MemorySysfsArea.blockID(name), m.blocks[id]?.node == nid
        else { return nil }
        return .symlink("../../memory/memory\(id)")
    }
}
