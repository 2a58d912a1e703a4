/// Invariant checks over the whole machine: every page counted once, the zone counters equal
/// to the page states, the free lists consistent with the memmap, owners with their pages.
/// O(pages): for tests and debugging, not for hot paths.
public struct InvariantViolation: Error, CustomStringConvertible {
    public var description: String
}

extension Machine {
    public func verify() throws {
        func fail(_ s: String) throws -> Never { throw InvariantViolation(description: s) }
        let kindCount = PageKind.allCases.count
        var perZoneKinds = [[Int]](repeating: [Int](repeating: 0, count: kindCount), count: zones.count)
        var perZoneFree = [Int](repeating: 0, count: zones.count)
        var perZonePCP = [Int](repeating: 0, count: zones.count)
        var perZonePresent = [Int](repeating: 0, count: zones.count)
        var perZoneReserved = [Int](repeating: 0, count: zones.count)
        var pfn = 0
        while pfn < memmap.pfnCount {
            let kind = memmap.kind(pfn)
            if kind == .absent || kind == .offline {
                if kind == .offline, zoneIndex(ofPFN: pfn) != nil, pageblockMigrateType(pfn) != .isolate {
                    // Offline pages belong to no zone, except transiently during offline.
                }
                // The rest of a summarized chunk of the same kind holds nothing to check.
                if let run = memmap.uniformRun(from: pfn + 1), run.kind == kind { pfn = run.end; continue }
                pfn += 1; continue
            }
            guard let z = zoneIndex(ofPFN: pfn) else { try fail("pfn \(pfn) is \(kind) but in no zone") }
            switch kind {
            case .tail, .buddyTail:
                try fail("pfn \(pfn): orphan \(kind) page")
            case .reserved:
                perZonePresent[z] += 1; perZoneReserved[z] += 1; pfn += 1; continue
            default: break
            }
            let order = memmap.order(pfn)
            let n = 1 << order
            guard pfn & (n - 1) == 0 else { try fail("pfn \(pfn): head of order \(order) not aligned") }
            let tailKind: PageKind = kind.isFree ? .buddyTail : .tail
            var t = pfn + 1
            while t < pfn + n {
                if let run = memmap.uniformRun(from: t), run.kind == tailKind {
                    // Summarized tails: the zone is per pageblock, so check one pfn in each.
                    let end = Swift.min(run.end, pfn + n)
                    while t < end {
                        guard zoneIndex(ofPFN: t) == z else { try fail("block at \(pfn) crosses zones") }
                        t = (t | (Geometry.pageblockPages - 1)) + 1
                    }
                    t = end
                    continue
                }
                guard memmap.kind(t) == tailKind else {
                    try fail("pfn \(t): expected \(tailKind) of head \(pfn), found \(memmap.kind(t))")
                }
                guard zoneIndex(ofPFN: t) == z else { try fail("block at \(pfn) crosses zones") }
                t += 1
            }
            perZonePresent[z] += n
            switch kind {
            case .buddy:
                perZoneFree[z] += n
                guard MigrateType(rawValue: UInt8(memmap.owner(pfn))) != nil else {
                    try fail("pfn \(pfn): free head of migratetype \(memmap.owner(pfn))")
                }
                let node = memmap.link(pfn)
                guard node < zones[z].fast.nodes.pointee.used, zones[z].fast.nodePFN(UInt32(node)) == pfn else {
                    try fail("pfn \(pfn): its free-list node \(node) does not hold it")
                }
            case .pcp:
                perZonePCP[z] += n
            default:
                perZoneKinds[z][Int(kind.rawValue)] += n
                let id = memmap.owner(pfn)
                if id != 0 {
                    guard let o = owners[id] else { try fail("pfn \(pfn): owner \(id) does not exist") }
                    let pos = memmap.link(pfn)
                    guard pos < o.blocks.count, Int(o.blocks[pos]) == pfn else {
                        try fail("pfn \(pfn): not in owner \(o.name)'s list")
                    }
                    guard o.kind == kind, o.order == order else {
                        try fail("pfn \(pfn): kind/order differ from owner \(o.name)")
                    }
                }
            }
            pfn += n
        }
        for z in zones.indices {
            let zone = zones[z]
            let name = "node \(zone.node) \(zone.type.name)"
            guard perZoneFree[z] == zone.freePages else {
                try fail("\(name): free pages \(zone.freePages) != counted \(perZoneFree[z])")
            }
            guard perZonePCP[z] == zone.pcp.count else {
                try fail("\(name): pcp \(zone.pcp.count) != counted \(perZonePCP[z])")
            }
            guard zone.store.pcpEntries * 1 <= zone.pcp.count else { try fail("\(name): pcp list lengths") }
            for k in PageKind.allCases where k.isAllocated {
                guard perZoneKinds[z][Int(k.rawValue)] == zone.kindPages[Int(k.rawValue)] else {
                    try fail(
                        "\(name): \(k) pages \(zone.kindPages[Int(k.rawValue)]) != counted \(perZoneKinds[z][Int(k.rawValue)])"
                    )
                }
            }
            guard perZonePresent[z] == zone.presentPages else {
                try fail("\(name): present \(zone.presentPages) != counted \(perZonePresent[z])")
            }
            guard perZonePresent[z] - perZoneReserved[z] == zone.managedPages else {
                try fail(
                    "\(name): managed \(zone.managedPages) != present - reserved \(perZonePresent[z] - perZoneReserved[z])"
                )
            }
            var listed = 0
            for o in 0..<Geometry.maxOrder {
                for mt in MigrateType.allCases { listed += zone.freeArea[Zone.listIndex(o, mt)].count << o }
            }
            // Each list, head to tail, holds free heads of its order and migratetype whose link
            // names their node (with the memmap walk above: every free head is on exactly one).
            for li in 0..<ZoneLists.freeListCount {
                let (order, mt) = (li / 5, li % 5)
                var seen = 0
                try zone.fast.forEachFree(li) { node, p in
                    seen += 1
                    guard seen <= zone.fast.freeCount(li) else { try fail("\(name): list \(li) longer than its count") }
                    guard memmap.kind(p) == .buddy, memmap.order(p) == order, memmap.owner(p) == mt,
                        memmap.link(p) == node
                    else { try fail("\(name): list \(li) holds pfn \(p), not a free head of its order and type") }
                }
                guard seen == zone.fast.freeCount(li) else { try fail("\(name): list \(li) shorter than its count") }
            }
            guard listed == zone.freePages else {
                try fail("\(name): free lists hold \(listed) pages, counter \(zone.freePages)")
            }
            if zone.presentPages > 0 {
                guard zone.startPFN >= 0, zone.endPFN <= memmap.pfnCount else { try fail("\(name): span out of range") }
            }
        }
        for o in owners.all {
            for b in o.blocks {
                guard memmap.owner(Int(b)) == o.id else { try fail("owner \(o.name): block \(b) not marked as its") }
            }
            // reclaim may skip only what its zone summary proves absent.
            if let s = o.zoneSummary {
                for (p, b) in o.blocks.enumerated() where !s.covers(p, BlockZoneSummary.bit(zoneIndex(ofPFN: b))) {
                    try fail("owner \(o.name): zone summary misses block \(b) at \(p)")
                }
            }
        }
        try verifyVmemmapPages()
        try verifyHugeTLB()
    }

    /// Every `.memmap` page without owner is where the vmemmap tables say, exactly once: a
    /// hot-added section's order-9 block, or a slot (base-page mapped section, restored page);
    /// and every page table a section's vmemmap uses is allocated.
    func verifyVmemmapPages() throws {
        func fail(_ s: String) throws -> Never { throw InvariantViolation(description: "vmemmap: " + s) }
        guard !vmemmap.sectionMemmap.isEmpty else {
            var pfn = 0
            while pfn < memmap.pfnCount {
                if memmap.kind(pfn) == .memmap && memmap.owner(pfn) == 0 {
                    try fail("pfn \(pfn): memmap page not registered")
                }
                if let run = memmap.uniformRun(from: pfn + 1), run.kind != .memmap { pfn = run.end; continue }
                pfn += 1
            }
            return
        }
        let slots = (Geometry.pagesPerSection >> Geometry.pageblockOrder) * 8
        var referenced = Set<Int>()
        for (s, v) in vmemmap.sectionMemmap.enumerated() {
            if v >= 0 && v & 1 == 0 {
                let start = v >> 1
                guard memmap.kind(start) == .memmap, memmap.order(start) == Geometry.pageblockOrder,
                    memmap.owner(start) == 0
                else {
                    try fail(
                        "section \(s): memmap block at \(start) is \(memmap.kind(start)) order \(memmap.order(start))")
                }
                guard referenced.insert(start).inserted else { try fail("pfn \(start) holds two sections' memmaps") }
            }
            if v == SparseVmemmap.basePages && vmemmap.splitPMD[s] == 0 {
                try fail("section \(s): base pages without a PTE table")
            }
            let pt = vmemmap.splitPMD[s]
            if pt != 0 && memmap.kind(pt) != .pageTable {
                try fail("section \(s): PTE table \(pt) is \(memmap.kind(pt))")
            }
            for i in (s * slots)..<((s + 1) * slots) {
                guard let p = vmemmap.replaced(i) else { continue }
                guard memmap.kind(p) == .memmap, memmap.order(p) == 0, memmap.owner(p) == 0 else {
                    try fail(
                        "section \(s) slot \(i - s * slots): pfn \(p) is \(memmap.kind(p)) order \(memmap.order(p))")
                }
                guard referenced.insert(p).inserted else { try fail("pfn \(p) backs two vmemmap pages") }
            }
        }
        var pfn = 0, heads = 0
        while pfn < memmap.pfnCount {
            let k = memmap.kind(pfn)
            if k == .memmap && memmap.owner(pfn) == 0 {
                guard referenced.contains(pfn) else { try fail("pfn \(pfn): memmap page nobody maps (lost)") }
                heads += 1
            }
            // Summarized non-head pages (holes, offline memory, tails) hold no memmap heads.
            if k != .memmap, let run = memmap.uniformRun(from: pfn + 1), run.kind != .memmap {
                pfn = Swift.max(run.end, pfn + 1)
                continue
            }
            pfn +=
                (k == .memmap || k == .buddy || k == .pcp || (k.isAllocated && k != .tail)) ? 1 << memmap.order(pfn) : 1
        }
        guard heads == referenced.count else { try fail("\(referenced.count) registered, \(heads) found") }
    }
}
