/// x86_64 geometry of Linux 6.1: the fixed sizes every other part of the model is measured in.
///
/// All sizes are in bytes unless the name says pages; a page frame number (`PFN`) is a
/// physical address shifted right by `pageShift`.
public typealias PFN = Int

public enum Geometry {
    public static let pageShift = 12
    public static let pageSize = 1 << pageShift  // 4 KiB
    public static let structPageSize = 64  // sizeof(struct page)
    public static let sectionShift = 27  // SECTION_SIZE_BITS
    public static let sectionSize = 1 << sectionShift  // 128 MiB
    public static let pagesPerSection = sectionSize >> pageShift  // 32768
    public static let pageblockOrder = 9  // HUGETLB_PAGE_ORDER
    public static let pageblockPages = 1 << pageblockOrder  // 512 pages = 2 MiB
    /// 6.1's MAX_ORDER is exclusive: the largest buddy order is 10 (4 MiB).
    public static let maxOrder = 11
    public static let maxOrderPages = 1 << (maxOrder - 1)  // MAX_ORDER_NR_PAGES = 1024
    public static let minMemoryBlockSize = sectionSize
    public static let maxMemoryBlockSize = 2 << 30  // 2 GiB
    /// Boot memory ending at or above this uses larger memory blocks (probe_memory_block_size).
    public static let memSizeForLargeBlock = 64 << 30

    public static func pfn(ofAddress address: Int) -> PFN { address >> pageShift }
    public static func address(ofPFN pfn: PFN) -> Int { pfn << pageShift }
    public static func pages(bytes: Int) -> Int { bytes >> pageShift }

    /// The memory block size `probe_memory_block_size()` picks on x86_64 (6.1).
    /// - Parameters:
    ///   - bootMemEnd: end address of the highest boot RAM (`max_pfn << PAGE_SHIFT`).
    ///   - hypervisor: whether the CPU reports X86_FEATURE_HYPERVISOR (true under QEMU).
    public static func memoryBlockSize(bootMemEnd: Int, hypervisor: Bool = true) -> Int {
        if bootMemEnd < memSizeForLargeBlock { return minMemoryBlockSize }
        if !hypervisor { return maxMemoryBlockSize }
        var size = maxMemoryBlockSize
        while size > minMemoryBlockSize {
            if bootMemEnd % size == 0 { break }
            size >>= 1
        }
        return size
    }
}

/// Round `value` up / down to a multiple of `alignment` (a power of two or any positive value).
@inlinable public func roundUp(_ value: Int, _ alignment: Int) -> Int {
    (value + alignment - 1) / alignment * alignment
}
@inlinable public func roundDown(_ value: Int, _ alignment: Int) -> Int {
    value / alignment * alignment
}

/// A half-open range of page frames, [start, end).
public struct PFNRange: Hashable, Sendable, CustomStringConvertible {
    public var start: PFN
    public var end: PFN
    public init(start: PFN, end: PFN) { self.start = start; self.end = end }
    public init(start: PFN, count: Int) { self.start = start; self.end = start + count }
    public var count: Int { end - start }
    public var isEmpty: Bool { end <= start }
    public func contains(_ pfn: PFN) -> Bool { pfn >= start && pfn < end }
    public func intersects(_ other: PFNRange) -> Bool { start < other.end && other.start < end }
    public func clamped(to other: PFNRange) -> PFNRange {
        PFNRange(start: max(start, other.start), end: max(max(start, other.start), min(end, other.end)))
    }
    public var description: String {
        "[mem \(hex(Geometry.address(ofPFN: start), width: 10))-\(hex(Geometry.address(ofPFN: end) - 1, width: 10))]"
    }
}

/// `%#0Nllx`-style formatting: "0x" followed by at least `width - 2` hex digits.
public func hex(_ value: Int, width: Int = 0, prefix: Bool = true) -> String {
    let digits = String(value, radix: 16)
    let pad = max(0, width - (prefix ? 2 : 0) - digits.count)
    return (prefix ? "0x" : "") + String(repeating: "0", count: pad) + digits
}
