@testable import KernelFS
@testable import MemoryModel

extension KernelFS {
    /// The machine the journal and reliability tests save and reload: 1 GiB with a cold-plugged
    /// 512 MiB DIMM (blocks 32-35) and room for more, journaling as `--state` does.
    static func journaledTestMachine() throws -> KernelFS {
        let fs = KernelFS(
            machine: try Machine.boot(
                MachineConfig(
                    memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4,
                    dimms: [DIMMConfig(id: "d1", sizeBytes: 512 << 20)])))
        fs.journaling = true
        return fs
    }
}
