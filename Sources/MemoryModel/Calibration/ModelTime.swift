/// Virtual time: what each operation costs on the model's clock, in nanoseconds. Not
/// measured figures: the captures only bound them (under QEMU TCG every hotplug write
/// returns within a few centiseconds), and timeouts and ratelimits need time to pass.
extension Machine {
    /// Memory hotplug (mm/memory_hotplug.c): per block onlined/added, per offline_pages
    /// retry pass, per page scanned and per page migrated.
    enum HotplugCost {
        static let onlineBlock: UInt64 = 1_000_000
        static let offlinePass: UInt64 = 200_000
        static let perPageScanned: UInt64 = 2
        static let perMigration: UInt64 = 1_000
        static let addBlock: UInt64 = 500_000
    }

    /// HugeTLB (mm/hugetlb.c, mm/hugetlb_vmemmap.c), TCG-free rough figures: a pool page
    /// allocated, a vmemmap optimize or restore, a gigantic page found by alloc_contig_pages.
    static let htlbAllocCostNs: UInt64 = 5_000
    static let htlbVmemmapCostNs: UInt64 = 2_000
    static let htlbGiganticCostNs: UInt64 = 3_000_000
}
