import Foundation
import KernelFS
import MemoryModel

/// `--state` files of a long session: what saving one costs when `memhp mount` or `sandbox`
/// ends, and what loading one costs when it starts (boot, then replay of every journaled
/// write). The session is the demo's machine (1 GiB + a 512 MiB DIMM) taking `writes` writes
/// through `KernelFS` as many clients would: mostly /proc/sys/vm tunables (watermarks, the
/// huge page pool, drop_caches), one refused write in ten (EINVAL, journaled all the same
/// since refused writes have effects) and a DIMM block onlined or offlined every 100th.
enum StateFileBench {
    static func config() -> MachineConfig {
        MachineConfig(
            memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4, dimms: [DIMMConfig(id: "dimm0", sizeBytes: 512 << 20)])
    }

    /// The journal of `writes` writes on a fresh machine (not timed).
    static func session(writes: Int) throws -> SavedSession {
        let fs = KernelFS(machine: try Machine.boot(config()))
        fs.journaling = true
        let vm = "/proc/sys/vm/"
        for i in 0..<writes {
            let (path, value): (String, String)
            if i % 100 == 99 {
                (path, value) = (
                    "/sys/devices/system/memory/memory\(32 + (i / 100) % 4)/state",
                    (i / 400) % 2 == 0 ? "online_movable" : "offline"
                )
            } else {
                switch i % 10 {
                case 0, 1, 2: (path, value) = (vm + "watermark_scale_factor", "\(10 + i % 90)")
                case 3, 4: (path, value) = (vm + "min_free_kbytes", "\(45056 + 4 * (i % 97))")
                case 5, 6: (path, value) = (vm + "nr_hugepages", "\((i / 10) % 2 * 16)")
                case 7: (path, value) = (vm + "watermark_boost_factor", "\(i % 15000)")
                case 8: (path, value) = (vm + "drop_caches", "1")
                default: (path, value) = (vm + "overcommit_memory", "7")  // EINVAL
                }
            }
            _ = try? fs.write(path, value + "\n")
        }
        let journal = fs.withLock { _ in fs.journal }
        return SavedSession(
            options: ["--mem", "1G", "--maxmem", "4G", "--dimm", "512M"], setupWrites: [], entries: journal)
    }

    static func tempFile() -> String {
        NSTemporaryDirectory() + "memhp-bench-\(getpid()).state"
    }

    /// Encode and write the file (to a temporary name, then renamed, as `memhp` saves).
    static func save(writes: Int) throws -> BenchSample {
        let s = try session(writes: writes)
        let path = tempFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let t = BenchTimer()
        let bytes = s.encoded()
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        return t.sample(figures: ["entries": Double(s.entries.count), "bytes": Double(bytes.count)])
    }

    /// Read, parse, boot and replay the file (the replay checks every write's result).
    static func load(writes: Int) throws -> BenchSample {
        let path = tempFile()
        try Data(try session(writes: writes).encoded()).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let t = BenchTimer()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let s = try SavedSession(parsing: bytes, file: path)
        let parsed = BenchTimer.processCPU()
        let fs = KernelFS(machine: try Machine.boot(config()))
        fs.journaling = true
        let booted = BenchTimer.processCPU()
        try fs.replay(s.entries)
        let replayCPU = BenchTimer.processCPU() - booted
        return t.sample(figures: [
            "entries": Double(s.entries.count), "bytes": Double(bytes.count),
            "read_parse_cpu_s": parsed - t.cpu0, "boot_cpu_s": booted - parsed, "replay_cpu_s": replayCPU
        ])
    }
}
