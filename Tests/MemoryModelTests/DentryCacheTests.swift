import XCTest

@testable import MemoryModel

/// First-time path lookups and the slab pages they take (`Machine.pathWalk`, `LookupSlabCache`).
final class DentryCacheTests: XCTestCase {
    func slabs(_ m: Machine) -> [Int] { m.dcache.slabsTaken }

    /// Hand-computed: /sys/devices/system/memory/memory0/state is five new names (sys is
    /// mounted): 5 dentries (4 free, so the fifth takes a slab: 20 left), 5 inodes (5 free: 0
    /// left, no slab), 5 LSM blobs (59 left). Its sibling then takes an inode_cache slab
    /// (order 1: 2 pages, 11 left). /proc/sys/vm/nr_hugepages is three proc inodes (3 free: no
    /// slab), the fourth name takes one. A missing kernfs name leaves one negative dentry.
    func testFirstTimeLookupsTakeSlabsWhenTheFreeObjectsRunOut() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30))
        let state = ["sys", "devices", "system", "memory", "memory0", "state"]
        XCTAssertTrue(m.pathWalk(state, existing: 6))
        XCTAssertEqual(slabs(m), [1, 0, 0, 0])
        XCTAssertEqual(m.dcache.free, [20, 0, 3, 59])
        XCTAssertFalse(m.pathWalk(state, existing: 6))  // in the dcache now
        m.pathWalk(["sys", "devices", "system", "memory", "memory0", "phys_index"], existing: 6)
        XCTAssertEqual(slabs(m), [1, 1, 0, 0])
        XCTAssertEqual(m.dcache.free, [19, 11, 3, 58])
        let owner = try XCTUnwrap(m.ownerID(named: "kernel:slab:inode_cache"))
        XCTAssertEqual(m.owners[owner]?.order, 1)
        m.pathWalk(["proc", "sys", "vm", "nr_hugepages"], existing: 4)
        XCTAssertEqual(slabs(m), [1, 1, 0, 0])
        m.pathWalk(["proc", "sys", "vm", "min_free_kbytes"], existing: 4)
        XCTAssertEqual(slabs(m), [1, 1, 1, 0])
        XCTAssertEqual(m.dcache.free, [15, 11, 10, 54])
        // node7 does not exist: "node" is new and positive, "node7" a negative dentry, once.
        m.pathWalk(["sys", "devices", "system", "node", "node7", "meminfo"], existing: 4)
        XCTAssertEqual(m.dcache.free, [13, 10, 10, 53])
        XCTAssertFalse(m.pathWalk(["sys", "devices", "system", "node", "node7"], existing: 4))
        // debugfs names come with their files.
        XCTAssertFalse(m.pathWalk(["sys", "kernel", "debug", "tracing", "trace"], existing: 5))
        try m.verify()
    }

    /// A path walked whole is answered without its prefixes (`walkedWhole`), and exactly as the
    /// full walk would answer: nothing taken while every name is cached, and once a walk finds
    /// a name gone (a removed block: its inode and blob freed, a negative dentry left) the next
    /// whole walk of a path below it takes that name's dentry, inode and blob again
    /// (hand-computed from the free counts: dentry 20, inode 0 → a 2-page slab, 12 - 1 = 11).
    func testAWalkAnsweredFromTheWholePathCacheAgreesWithTheFullWalk() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30))
        let comps = ["sys", "devices", "system", "memory", "memory0", "state"]
        let path = "/sys/devices/system/memory/memory0/state"
        XCTAssertTrue(m.pathWalk(comps, existing: 6, path: path))
        XCTAssertEqual(m.dcache.free, [20, 0, 3, 59])
        XCTAssertFalse(m.pathWalk(comps, existing: 6, path: path))
        XCTAssertEqual(m.dcache.free, [20, 0, 3, 59])
        // memory0 is gone: revalidation frees its inode and blob, leaves a negative dentry.
        XCTAssertTrue(m.pathWalk(comps, existing: 4, path: path))
        XCTAssertEqual(m.dcache.free, [20, 1, 3, 60])
        // Back again: memory0 is looked up afresh (its negative dentry replaced, no new dentry
        // object), state is still positive; the cached answer must not hide this.
        XCTAssertTrue(m.pathWalk(comps, existing: 6, path: path))
        XCTAssertEqual(m.dcache.free, [20, 0, 3, 59])
        XCTAssertFalse(m.pathWalk(comps, existing: 6, path: path))
        try m.verify()
    }

    /// The walk's two shortcuts (a whole path walked before; a path whose directory was) answer
    /// exactly as the full walk does: two machines take the same 4,000 seeded walks over
    /// blocks that come and go, one told each walk's spelled path (shortcuts on), one not; after
    /// every walk their answers, free objects, slabs and dcache names agree.
    func testWalkShortcutsAgreeWithTheFullWalkAsBlocksComeAndGo() throws {
        let fast = try Machine.boot(MachineConfig(memBytes: 1 << 30))
        let full = try Machine.boot(MachineConfig(memBytes: 1 << 30))
        var rng = SplitMix64(seed: 9)
        var present = [true, true, true, true]
        let files = ["state", "online", "valid_zones", "removable", nil]
        for step in 0..<4000 {
            let block = rng.below(4)
            if rng.chance(3) { present[block].toggle() }
            var comps = ["sys", "devices", "system", "memory", "memory\(block)"]
            if let f = rng.pick(files) { comps.append(f) }
            let existing = present[block] ? comps.count : 4
            let path = "/" + comps.joined(separator: "/")
            let a = fast.pathWalk(comps, existing: existing, path: path)
            let b = full.pathWalk(comps, existing: existing)
            XCTAssertEqual(a, b, "step \(step): \(path)")
            XCTAssertEqual(fast.dcache.free, full.dcache.free, "step \(step)")
            XCTAssertEqual(fast.dcache.positive, full.dcache.positive, "step \(step)")
            XCTAssertEqual(fast.dcache.negative, full.dcache.negative, "step \(step)")
            if a != b { break }
        }
        XCTAssertEqual(fast.dcache.slabsTaken, full.dcache.slabsTaken)
        XCTAssertGreaterThan(fast.dcache.slabsTaken.reduce(0, +), 0)
        // The shortcuts were taken: a path under a directory walked whole is not rebuilt.
        XCTAssertFalse(fast.dcache.walkedWhole.isEmpty)
    }

    /// The kernel's answer (6.1.0-57, movablecore=25% on 2G; the same on kernelcore and dimms
    /// shapes): /proc/slabinfo read after each of these first-time reads grew dentry at reads
    /// 1, 19, 37, 55, 73, inode_cache at 2, 13, 23, 33, 43, 54, 64, lsm_inode_cache at 52,
    /// proc_inode_cache at 73 and 84 (read 0 is /proc/slabinfo's own lookup).
    func testTheProbesSlabGrowthSteps() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 2 << 30, maxmemBytes: 4 << 30, slots: 2))
        var paths = [["proc", "slabinfo"]]
        for b in 0..<12 {
            for f in ["state", "phys_index", "valid_zones", "removable", "phys_device", "online"] {
                paths.append(["sys", "devices", "system", "memory", "memory\(b)", f])
            }
        }
        for f in [
            "nr_hugepages", "nr_overcommit_hugepages", "nr_hugepages_mempolicy", "hugetlb_optimize_vmemmap",
            "min_free_kbytes", "watermark_scale_factor", "overcommit_memory", "swappiness", "dirty_ratio",
            "compact_unevictable_allowed", "extfrag_threshold", "percpu_pagelist_high_fraction",
            "lowmem_reserve_ratio", "stat_interval"
        ] {
            paths.append(["proc", "sys", "vm", f])
        }
        var grew: [[Int]] = [[], [], [], []]
        for (i, p) in paths.enumerated() {
            let before = slabs(m)
            m.pathWalk(p, existing: p.count)
            for c in 0..<4 where slabs(m)[c] > before[c] { grew[c].append(i) }
        }
        XCTAssertEqual(grew[LookupSlabCache.dentry.rawValue], [1, 19, 37, 55, 73])
        XCTAssertEqual(grew[LookupSlabCache.inode.rawValue], [2, 13, 23, 33, 43, 54, 64])
        XCTAssertEqual(grew[LookupSlabCache.lsmInode.rawValue], [52])
        XCTAssertEqual(grew[LookupSlabCache.procInode.rawValue], [73, 84])
    }

    /// The boot leaves node 0's kernel zone with the measured reclaimable pcp stock: the first
    /// order-0 and order-1 reclaimable slabs come from it, the second order-1 one refills the
    /// list with batch >> 1 blocks (31 for DMA32's batch of 63, prc.trace.txt).
    func testFirstReclaimableSlabsComeFromTheBootPCPStock() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30))
        let z = try XCTUnwrap(m.zonelist(gfp: .kernel, node: 0).first { m.zones[$0].managedPages > 0 })
        let l0 = PerCPUPages.index(order: 0, migrateType: .reclaimable)!
        let l1 = PerCPUPages.index(order: 1, migrateType: .reclaimable)!
        XCTAssertEqual(m.zones[z].fast.pcpCount(l0), 28)  // the kernel's 28 (BootProfile.reclaimablePCPStock)
        XCTAssertEqual(m.zones[z].fast.pcpCount(l1), 1)
        let free = m.zones[z].freePages
        m.takeLookupObject(.inode)  // 5 free: no slab
        for _ in 0..<5 { m.takeLookupObject(.inode) }  // the sixth takes an order-1 slab
        XCTAssertEqual(m.zones[z].fast.pcpCount(l1), 0)
        XCTAssertEqual(m.zones[z].freePages, free)
        for _ in 0..<12 { m.takeLookupObject(.inode) }  // the next slab refills
        XCTAssertEqual(m.zones[z].fast.pcpCount(l1), m.zones[z].pcp.batch >> 1 - 1)
        XCTAssertEqual(m.zones[z].freePages, free - 2 * (m.zones[z].pcp.batch >> 1))
    }

    /// /proc/kpageflags of an order-1 block on a pcp list: neither page is PageBuddy and no
    /// PageBuddy head lies above them (6.1's is_free_buddy_page is false), so both read 0, and
    /// a census of KPF_BUDDY pages counts exactly the zones' free pages.
    func testPCPBlocksOfOrderOneHaveNoBuddyFlag() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30))
        let z = try XCTUnwrap(m.zonelist(gfp: .kernel, node: 0).first { m.zones[$0].managedPages > 0 })
        for _ in 0..<18 { m.takeLookupObject(.inode) }  // the second order-1 slab refills 31 blocks
        let l1 = PerCPUPages.index(order: 1, migrateType: .reclaimable)!
        XCTAssertEqual(m.zones[z].fast.pcpCount(l1), 30)
        let flags = try m.kpageflagsRead(offset: 0, count: m.kpageflagsEndPFN * 8)
        var buddy = 0, pcpTails = 0
        for pfn in 0..<m.kpageflagsEndPFN {
            let word = flags[pfn * 8..<pfn * 8 + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if word & KPF.bit(KPF.buddy) != 0 { buddy += 1 }
            if pfn < m.memmap.pfnCount, m.memmap.kind(pfn) == .buddyTail, m.memmap.kind(pfn - 1) == .pcp {
                pcpTails += 1
                XCTAssertEqual(word, 0, "pfn \(pfn)")
            }
        }
        XCTAssertGreaterThanOrEqual(pcpTails, 30)
        XCTAssertEqual(buddy, m.totalFreePages)
    }
}
