/// A list of pfns (an owner's blocks, a hstate's free pages, a mapping's pages) at 4 bytes a
/// pfn while every pfn fits in 32 bits (machines below 16 TiB), 5 once one does not: the low
/// 32 bits, and the high byte in a side array created on the first wide pfn. 40 bits of pfn
/// cover 4 PiB, beyond x86-64's MAX_PHYSMEM_BITS (46 bits of address, 34 of pfn).
public struct PFNList: RandomAccessCollection, MutableCollection, ExpressibleByArrayLiteral, Equatable, Sendable {
    @usableFromInline var lo: [UInt32] = []
    /// Bits 32-39 of each pfn; empty while every pfn is below 2^32.
    @usableFromInline var hi: [UInt8] = []

    public init() {}
    public init(arrayLiteral pfns: PFN...) { for p in pfns { append(p) } }
    public init(repeating pfn: PFN, count: Int) {
        lo = [UInt32](repeating: UInt32(truncatingIfNeeded: pfn), count: count)
        if pfn >> 32 != 0 { hi = [UInt8](repeating: UInt8(truncatingIfNeeded: pfn >> 32), count: count) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { lo.count }
    @inlinable public var count: Int { lo.count }
    @inlinable public var isEmpty: Bool { lo.isEmpty }

    @inlinable public subscript(i: Int) -> PFN {
        get { hi.isEmpty ? Int(lo[i]) : Int(lo[i]) | Int(hi[i]) << 32 }
        set {
            lo[i] = UInt32(truncatingIfNeeded: newValue)
            if newValue >> 32 != 0 || !hi.isEmpty { setHigh(i, newValue) }
        }
    }

    @inlinable public mutating func append(_ pfn: PFN) {
        lo.append(UInt32(truncatingIfNeeded: pfn))
        if pfn >> 32 != 0 || !hi.isEmpty { setHigh(lo.count - 1, pfn) }
    }

    @inlinable @discardableResult public mutating func removeLast() -> PFN {
        let l = Int(lo.removeLast())
        return hi.isEmpty ? l : l | Int(hi.removeLast()) << 32
    }

    public mutating func reserveCapacity(_ n: Int) { lo.reserveCapacity(n) }

    /// `self[positions[i]] = pfns[i]` for every i, with one uniqueness check of the storage
    /// instead of one per element (migration moves a run of an owner's blocks at once).
    mutating func assign(_ pfns: UnsafeBufferPointer<PFN>, at positions: UnsafeBufferPointer<Int>) {
        precondition(pfns.count == positions.count)
        if !hi.isEmpty || pfns.contains(where: { $0 >> 32 != 0 }) {
            for i in pfns.indices { self[positions[i]] = pfns[i] }
            return
        }
        let n = lo.count
        lo.withUnsafeMutableBufferPointer { b in
            for i in pfns.indices {
                let pos = positions[i]
                precondition(pos >= 0 && pos < n, "owner list position \(pos) out of range")
                b[pos] = UInt32(truncatingIfNeeded: pfns[i])
            }
        }
    }

    public static func + (a: PFNList, b: PFNList) -> PFNList {
        var r = a
        r.reserveCapacity(a.count + b.count)
        for p in b { r.append(p) }
        return r
    }

    /// Store bits 32-39 of `pfn` at `i` (whose low bits are already stored), widening the
    /// list on its first pfn at or above 2^32.
    @usableFromInline mutating func setHigh(_ i: Int, _ pfn: PFN) {
        precondition(pfn >= 0 && pfn >> 40 == 0, "pfn \(pfn) beyond 40 bits")
        if hi.count < lo.count { hi.append(contentsOf: repeatElement(0, count: lo.count - hi.count)) }
        hi[i] = UInt8(truncatingIfNeeded: pfn >> 32)
    }
}
