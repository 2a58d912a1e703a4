/// `vm.drop_caches` (fs/drop_caches.c): dropping clean page cache and reclaimable slab on
/// request. The other /proc/sys/vm tunables live with their subsystems: watermarks and pcp
/// limits in Watermarks.swift, overcommit in Overcommit.swift; the counters the views derive
/// in VMStat/PageCounters.swift.
extension Machine {
    /// `vm.drop_caches` (fs/drop_caches.c): bit 1 frees the clean, unmapped page cache
    /// (`invalidate_mapping_pages` over every inode: the model's reclaimable page-cache
    /// owners), bit 2 shrinks the slab caches (reclaimable slab owners), bit 4 only silences
    /// the log line. `value` was range-checked (1...4) by the sysctl. Returns pages freed.
    @discardableResult
    public func dropCaches(_ value: Int, comm: String = "sh", pid: Int = 1) -> Int {
        enterKernel()
        defer { exitToUserMode() }
        var freed = 0
        func drop(_ kind: PageKind) {
            for id in owners.slots.indices {
                // The order only: an Owner copy kept alive would make release() copy its list.
                guard let order = owners[id].flatMap({ $0.kind == kind && $0.reclaimable ? $0.order : nil }) else {
                    continue
                }
                freed += release(owner: id) << order
            }
        }
        if value & 1 != 0 { drop(.pageCache); vmstat.dropPagecache += 1 }
        if value & 2 != 0 { drop(.slabReclaimable); vmstat.dropSlab += 1 }
        if !vmSysctl.dropCachesQuiet { log("\(comm) (\(pid)): drop_caches: \(value)") }
        if value & 4 != 0 { vmSysctl.dropCachesQuiet = true }
        return freed
    }
}
