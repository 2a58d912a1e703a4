/// What-ifs applied to a snapshot before predicting: the host as it would be after a change
/// nobody made. They work on the snapshot's own state (census, pools, zones), not on a
/// booted model, so where the kernel would choose pages the choice is stated.
public enum WhatIf: Sendable, Equatable {
    /// vm.hugetlb_optimize_vmemmap set (every HugeTLB page optimized) or cleared.
    case hvo(Bool)
    /// N more free 2 MiB pages in the pool (`echo $((nr+N)) > nr_hugepages`).
    case pool(Int)
    /// An offline block onlined to ZONE_MOVABLE (`echo online_movable > memoryN/state`).
    case onlineMovable(Int)

    public struct Refused: Error, CustomStringConvertible {
        public let description: String
    }

    /// Apply to `snapshot`/`census`, adjusting `assumptions` for HVO. Returns a note when
    /// the change was partial (as the kernel's pool grows only as far as memory allows).
    @discardableResult
    public func apply(_ snapshot: inout HostSnapshot, _ census: inout PageCensus?, _ assumptions: inout Assumptions)
        throws -> String?
    {
        switch self {
        case .hvo(let on):
            assumptions.hvo = on
            snapshot.sysctls["hugetlb_optimize_vmemmap"] = on ? "1" : "0"
            return nil
        case .onlineMovable(let id):
            guard let i = snapshot.blocks.firstIndex(where: { $0.id == id }) else {
                throw Refused(description: "--online-movable \(id): no memory\(id)")
            }
            guard snapshot.blocks[i].state == "offline" else {
                throw Refused(
                    description: "--online-movable \(id): memory\(id) is \(snapshot.blocks[i].state), not offline")
            }
            snapshot.blocks[i].state = "online"
            snapshot.blocks[i].validZones = "Movable"
            let n = snapshot.blockPages, s = id * n
            if var c = census {
                if c.endPFN < s + n { c.append(.noPage, count: s + n - c.endPFN) }
                census = c.overlaid([(s..<(s + n), .free)])
            }
            let node = snapshot.blocks[i].node ?? 0
            if let z = snapshot.zones.firstIndex(where: { $0.node == node && $0.name == "Movable" }) {
                // move_pfn_range_to_zone: the span grows to cover the block.
                var zone = snapshot.zones[z]
                let end = zone.spanned == 0 ? s + n : Swift.max(zone.endPFN, s + n)
                zone.startPFN = zone.spanned == 0 ? s : Swift.min(zone.startPFN, s)
                zone.spanned = end - zone.startPFN
                zone.free += n; zone.managed += n; zone.present += n
                snapshot.zones[z] = zone
            } else {
                snapshot.zones.append(
                    .init(
                        node: node, name: "Movable", startPFN: s, spanned: n, present: n, managed: n,
                        free: n, min: 0, low: 0, high: 0, protection: []))
            }
            return nil
        case .pool(let count):
            guard count > 0 else { return nil }
            guard let c = census else {
                throw Refused(description: "--pool: the snapshot has no census to place pages in")
            }
            let pages = 512
            // alloc_buddy_huge_page with htlb_alloc_mask's GFP_HIGHUSER_MOVABLE (2 MiB pages migrate on
            // x86_64): Movable, then Normal, then DMA32; the lowest free 2 MiB blocks first (boot frees
            // reach the free lists' tails, so the lists hand out low addresses first).
            var picked: [(range: Range<Int>, kind: CensusKind)] = []
            var perZone: [Int: Int] = [:]
            for zname in ["Movable", "Normal", "DMA32"] {
                for (zi, z) in snapshot.zones.enumerated() where z.name == zname && picked.count < count * 2 {
                    var p = (z.startPFN + pages - 1) / pages * pages
                    while p + pages <= z.endPFN && picked.count < count * 2 {
                        var allFree = true
                        c.forEachRun(p, p + pages) { _, _, k in if k != .free { allFree = false } }
                        if allFree && z.free - z.high - (perZone[zi] ?? 0) >= pages {
                            picked.append((p..<(p + 1), .hugetlbFree))
                            picked.append(((p + 1)..<(p + pages), .hugetlbTail))
                            perZone[zi, default: 0] += pages
                        }
                        p += pages
                    }
                }
            }
            let got = picked.count / 2
            census = c.overlaid(picked)
            for (zi, n) in perZone { snapshot.zones[zi].free -= n }
            if let i = snapshot.hugepages.firstIndex(where: { $0.sizeKB == 2048 }) {
                snapshot.hugepages[i].nr += got; snapshot.hugepages[i].free += got
            } else {
                snapshot.hugepages.append(
                    .init(sizeKB: 2048, nr: got, free: got, resv: 0, surplus: 0, overcommit: 0, perNode: []))
            }
            return got < count
                ? "--pool \(count): only \(got) free 2 MiB blocks above the high watermarks (the pool grows by \(got))"
                : nil
        }
    }
}
