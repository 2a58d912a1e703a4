import Foundation
import KernelFS
import Snapshot

@testable import MemoryModel

/// A fake host root from the model: `memhp export`'s tree plus the two binary files export
/// leaves out (/proc/kpageflags from the model's stable_page_flags, /proc/kpagecount as the
/// kernel's page_mapcount: 1 for user-mapped pages, 0 otherwise) and /proc/sys/kernel/arch.
enum ModelFakeRoot {
    static func make(_ fs: KernelFS) throws -> String {
        let dir = NSTemporaryDirectory() + "memhp-snapshot-\(UUID().uuidString)"
        try fs.export(to: dir)
        try fs.withLock { m in
            let end = m.kpageflagsEndPFN
            let flags = try m.kpageflagsRead(offset: 0, count: end * 8)
            var freeHeads = Set<Int>()
            for h in m.hugetlb.hstates {
                for n in 0..<h.freeLists.nodeCount { for p in h.freeLists[n] { freeHeads.insert(p) } }
            }
            var counts = [UInt8](repeating: 0, count: end * 8)
            for pfn in 0..<min(end, m.memmap.pfnCount) {
                let k = m.memmap.kind(pfn)
                let c: UInt8
                // page_mapcount(): user-mapped pages only (anonymous memory, shmem, pinned user
                // pages, in-use huge pages); page cache, ramfs and kernel memory read 0.
                switch k {
                case .anon, .shmem, .pinned: c = 1
                case .hugetlb: c = freeHeads.contains(pfn) ? 0 : 1
                default: c = 0
                }
                counts[pfn * 8] = c
            }
            try writable(dir + "/proc") {
                try Data(flags).write(to: URL(fileURLWithPath: dir + "/proc/kpageflags"))
                try Data(counts).write(to: URL(fileURLWithPath: dir + "/proc/kpagecount"))
            }
            try FileManager.default.createDirectory(atPath: dir + "/proc/sys/kernel", withIntermediateDirectories: true)
            try "x86_64\n".write(toFile: dir + "/proc/sys/kernel/arch", atomically: false, encoding: .utf8)
        }
        return dir
    }

    /// Export leaves /proc read-only (procfs' 0555); open it for the extra files.
    static func writable(_ dir: String, _ body: () throws -> Void) throws {
        chmod(dir, 0o755)
        defer { chmod(dir, 0o555) }
        try body()
    }

    static func remove(_ dir: String) {
        // Read-only directories first become writable so that removal works for non-root too.
        if let e = FileManager.default.enumerator(atPath: dir) {
            for case let p as String in e { chmod(dir + "/" + p, 0o755) }
        }
        chmod(dir, 0o755)
        try? FileManager.default.removeItem(atPath: dir)
    }
}
