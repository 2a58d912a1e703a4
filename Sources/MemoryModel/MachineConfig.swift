/// What the machine is made of, with QEMU's meaning of each option
/// (`qemu-system-x86_64 -machine pc -m SIZE,slots=N,maxmem=M -numa ... -device pc-dimm ...`).
public struct MachineConfig: Sendable, Equatable {
    /// `-m SIZE`: boot RAM in bytes (split across NUMA nodes when `nodes` is given).
    public var memBytes: Int
    /// `maxmem=`: total of boot RAM and every DIMM that may ever be plugged. 0 = no hotplug.
    public var maxmemBytes: Int
    /// `slots=`: DIMM slots.
    public var slots: Int
    /// NUMA nodes with their boot memory (`-numa node,nodeid=N,memdev=...`). Empty = one node with all of `memBytes`.
    public var nodes: [NodeConfig]
    /// NUMA distances; empty = QEMU's default (10 local, 20 remote).
    public var distances: [[Int]]
    /// DIMMs plugged at boot (`-device pc-dimm` on the command line).
    public var dimms: [DIMMConfig]
    /// virtio-mem devices (`-device virtio-mem-pci`).
    public var virtioMem: [VirtioMemConfig]
    /// The kernel command line (`-append`).
    public var cmdline: String
    /// `-cpu qemu64,+pdpe1gb`: the CPU has 1 GiB pages (gbpages), so a 1 GiB hstate exists.
    public var gbpages: Bool
    /// Seed for every random choice the model makes.
    public var seed: UInt64
    /// Pages of its own buffers the guest program makes resident before the first step (the
    /// scenario layer's GuestFootprint: set for scenarios that count pages per block), user
    /// pages allocated right after init's own at boot. 0: the runner faults them in lazily and
    /// the calibrated `BootProfile.anonPages` is all.
    public var guestPrefaultPages = 0

    public init(
        memBytes: Int = 1 << 30, maxmemBytes: Int = 4 << 30, slots: Int = 4,
        nodes: [NodeConfig] = [], distances: [[Int]] = [], dimms: [DIMMConfig] = [],
        virtioMem: [VirtioMemConfig] = [], cmdline: String = "", gbpages: Bool = false,
        seed: UInt64 = 1
    ) {
        self.memBytes = memBytes; self.maxmemBytes = maxmemBytes; self.slots = slots
        self.nodes = nodes; self.distances = distances; self.dimms = dimms
        self.virtioMem = virtioMem; self.cmdline = cmdline; self.gbpages = gbpages; self.seed = seed
    }
}

public struct NodeConfig: Sendable, Equatable {
    public var id: Int
    public var memBytes: Int
    public init(id: Int, memBytes: Int) { self.id = id; self.memBytes = memBytes }
}

public struct DIMMConfig: Sendable, Equatable {
    public var id: String
    public var sizeBytes: Int
    public var node: Int
    public init(id: String, sizeBytes: Int, node: Int = 0) {
        self.id = id; self.sizeBytes = sizeBytes; self.node = node
    }
}

public struct VirtioMemConfig: Sendable, Equatable {
    public var id: String
    /// Size of the memory backend: the device's region.
    public var regionBytes: Int
    public var requestedBytes: Int
    public var node: Int
    /// Device block size (QEMU default for anonymous RAM: 2 MiB).
    public var blockBytes: Int
    public init(id: String, regionBytes: Int, requestedBytes: Int = 0, node: Int = 0, blockBytes: Int = 2 << 20) {
        self.id = id; self.regionBytes = regionBytes; self.requestedBytes = requestedBytes
        self.node = node; self.blockBytes = blockBytes
    }
}
