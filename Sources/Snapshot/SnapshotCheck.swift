/// Whether a snapshot describes a machine the model and the predictor understand: an x86_64
/// kernel (4 KiB pages, 128 MiB sections, pageblock order 9) with memory hotplug.
public enum SnapshotCheck {
    public struct Unusable: Error, CustomStringConvertible {
        public let description: String
    }

    public static func check(_ s: HostSnapshot, source: String) throws {
        if let a = s.arch, a != "x86_64" {
            throw Unusable(
                description:
                    "\(source): the host is \(a); memhp models x86_64 only (section, pageblock and vmemmap sizes differ elsewhere)"
            )
        }
        guard s.blockSizeBytes > 0 else {
            throw Unusable(
                description:
                    "\(source): no /sys/devices/system/memory/block_size_bytes: the kernel has no memory hotplug (CONFIG_MEMORY_HOTPLUG), nothing to predict"
            )
        }
        guard s.blockSizeBytes % (128 << 20) == 0, s.blockSizeBytes & (s.blockSizeBytes - 1) == 0 else {
            throw Unusable(
                description:
                    "\(source): block_size_bytes \(s.blockSizeBytes) is not a power-of-two multiple of x86_64's 128 MiB sections"
            )
        }
        guard !s.blocks.isEmpty else {
            throw Unusable(description: "\(source): no memoryN directories under /sys/devices/system/memory")
        }
        if let o = s.pageblockOrder, o != 9 {
            throw Unusable(description: "\(source): pageblock order \(o); x86_64 with 4 KiB pages has 9")
        }
    }
}
