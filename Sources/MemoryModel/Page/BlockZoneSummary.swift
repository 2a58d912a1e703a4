/// Which zones an owner's blocks lie in, by position in its block list, so `reclaim` can
/// skip a run of blocks outside the zones it may free from without visiting each one.
/// The kernel keeps an LRU per node and zone (`shrink_lruvec` only sees eligible zones);
/// the model keeps one list per owner and scans it from the end, and without this a list
/// whose newest blocks are all in other zones was rescanned by every allocation that
/// reclaimed (quadratic).
///
/// Three levels of masks, a bit per zone (zone index mod 64), for each 64, 4,096 and
/// 262,144 positions. For every position below the list's count, its block's zone bit is
/// in all three of its masks; a mask may also hold bits of blocks that have since left
/// (removals do not clear them), so a mask without a zone's bit proves the zone absent and
/// a skip never changes what a scan frees or in which order. `setWord` makes a word exact
/// again once reclaim has visited it.
struct BlockZoneSummary: Sendable, Equatable {
    static let wordShift = 6
    private(set) var l0: [UInt64] = []
    private(set) var l1: [UInt64] = []
    private(set) var l2: [UInt64] = []

    /// The bit of a zone index; a block in no zone gets every bit (it is then always visited).
    @inline(__always) static func bit(_ zone: Int?) -> UInt64 { zone.map { 1 << UInt64($0 & 63) } ?? ~0 }

    /// Record that the block at `pos` is in the zone(s) of `bit`.
    @inline(__always) mutating func mark(_ pos: Int, _ bit: UInt64) {
        let w0 = pos >> 6, w1 = pos >> 12, w2 = pos >> 18
        if w0 >= l0.count { l0.append(contentsOf: repeatElement(0, count: w0 - l0.count + 1)) }
        if w1 >= l1.count { l1.append(contentsOf: repeatElement(0, count: w1 - l1.count + 1)) }
        if w2 >= l2.count { l2.append(contentsOf: repeatElement(0, count: w2 - l2.count + 1)) }
        l0[w0] |= bit
        l1[w1] |= bit
        l2[w2] |= bit
    }

    /// Whether all three masks of `pos` hold `bit` (the invariant `verify()` checks).
    func covers(_ pos: Int, _ bit: UInt64) -> Bool {
        pos >> 18 < l2.count && l0[pos >> 6] & bit == bit && l1[pos >> 12] & bit == bit && l2[pos >> 18] & bit == bit
    }

    /// The highest position at or below `i` whose masks hold a bit of `zones` (a block there
    /// may be in one of them), or -1. Every position skipped holds a block in none of them.
    func candidate(atOrBelow i: Int, zones: UInt64) -> Int {
        var i = i
        while i >= 0 {
            if l2[i >> 18] & zones == 0 { i = ((i >> 18) << 18) - 1; continue }
            if l1[i >> 12] & zones == 0 { i = ((i >> 12) << 12) - 1; continue }
            if l0[i >> 6] & zones == 0 { i = ((i >> 6) << 6) - 1; continue }
            return i
        }
        return -1
    }

    /// Replace word `w`'s mask by the exact one of its blocks (positions below `count`), and
    /// its parents' by the union of their children that hold positions below `count`.
    mutating func setWord(_ w: Int, _ mask: UInt64, count: Int) {
        guard w < l0.count, l0[w] != mask else { return }
        l0[w] = mask
        let last0 = (count - 1) >> 6
        let p1 = w >> 6
        var m1: UInt64 = 0
        var c = p1 << 6
        while c <= Swift.min(last0, (p1 << 6) + 63) { m1 |= l0[c]; c += 1 }
        guard l1[p1] != m1 else { return }
        l1[p1] = m1
        let last1 = (count - 1) >> 12
        let p2 = w >> 12
        var m2: UInt64 = 0
        c = p2 << 6
        while c <= Swift.min(last1, (p2 << 6) + 63) { m2 |= l1[c]; c += 1 }
        l2[p2] = m2
    }
}
