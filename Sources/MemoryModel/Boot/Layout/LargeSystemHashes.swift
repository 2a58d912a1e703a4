/// One table 6.1 sizes with alloc_large_system_hash() (mm/page_alloc.c) at boot.
struct LargeSystemHash: Sendable, Equatable {
    var name: String
    /// `bucketsize << log2qty`: what the table takes.
    var bytes: Int
    /// HASH_EARLY when the machine has one memory node (dcache_init_early, inode_init_early):
    /// memblock, not the buddy allocator. With hashdist every table is vmalloc'ed later.
    var early: Bool
    var pages: Int { (bytes + Geometry.pageSize - 1) / Geometry.pageSize }
}

/// A table's sizing arguments: bucket size, `numentries` (0: from memory), `scale`, flags and
/// the entry limits, as its caller passes them (x86_64, 6.1, Debian's config).
struct LargeSystemHashSpec: Sendable {
    var name: String
    var bucket: Int
    var entries: Int
    var scale: Int
    var low: Int
    var high: Int
    var early: Bool = false
}

extension BootLayout {
    /// nr_kernel_pages (free_area_init_core): each zone's present pages less its memmap
    /// (calc_memmap_size: the spanned pages' struct pages, the present ones' when the zone is
    /// more than 1/16 holes), summed over every zone of every node. No highmem on x86_64, so
    /// this is nr_all_pages too.
    static func nrKernelPages(_ nodes: [NodeLayout]) -> Int {
        nodes.flatMap(\.zones).reduce(0) { acc, z in
            let spanned = z.spannedPages, present = z.presentPages
            let memmapOf = spanned > present + (present >> 4) ? present : spanned
            let memmap = (memmapOf * Geometry.structPageSize + Geometry.pageSize - 1) / Geometry.pageSize
            return acc + (present >= memmap ? present - memmap : present)
        }
    }

    /// The tables the boot sizes with alloc_large_system_hash, in the order they are made:
    /// vfs_caches_init (dcache_init, inode_init, mnt_init), futex_init, ip_rt_init,
    /// tcp_init (inet_hashinfo2_init, ehash, bhash), mptcp_token_init, udp_init, udplite4.
    /// Their sizes on a 1 GiB guest are those of `a-baseline.dmesg.txt`'s "hash table entries"
    /// lines; on NUMA guests of 2G-4G those of /proc/vmallocinfo (tests/fixtures/numa-boot-probes).
    static func largeSystemHashes(nrKernelPages: Int, possibleCPUs: Int) -> [LargeSystemHash] {
        let futexEntries = roundUpPowerOfTwo(256 * max(possibleCPUs, 1))
        var specs: [LargeSystemHashSpec] = [
            // struct hlist_bl_head, dhash_entries= unset; dcache_init_early on one node.
            .init(name: "Dentry cache", bucket: 8, entries: 0, scale: 13, low: 2, high: 0, early: true),
            .init(name: "Inode-cache", bucket: 8, entries: 0, scale: 14, low: 0, high: 0, early: true),
            .init(name: "Mount-cache", bucket: 8, entries: 0, scale: 19, low: 0, high: 0),
            .init(name: "Mountpoint-cache", bucket: 8, entries: 0, scale: 19, low: 0, high: 0),
            // struct futex_hash_bucket is cacheline aligned: 64 bytes.
            .init(name: "futex", bucket: 64, entries: futexEntries, scale: 0, low: futexEntries, high: futexEntries),
            // ip_idents (atomic_t) + ip_tstamps (u32).
            .init(name: "IP idents", bucket: 8, entries: 0, scale: 16, low: 2048, high: 256 * 1024),
            // struct inet_listen_hashbucket: a spinlock and an hlist_nulls_head.
            .init(name: "tcp_listen_portaddr_hash", bucket: 16, entries: 0, scale: 21, low: 0, high: 64 * 1024),
            // INET_TABLE_PERTURB_SIZE u32s.
            .init(name: "Table-perturb", bucket: 4, entries: 1 << 16, scale: 0, low: 1 << 16, high: 1 << 16),
            .init(name: "TCP established", bucket: 8, entries: 0, scale: 17, low: 0, high: 512 * 1024)
        ]
        let sized = specs.map { largeSystemHashEntries($0, nrKernelPages: nrKernelPages) }
        // TCP bind: two inet_bind_hashbuckets per established bucket (bhash and bhash2).
        let ehashEntries = sized.last ?? 0
        specs += [
            .init(name: "TCP bind", bucket: 32, entries: ehashEntries, scale: 17, low: 0, high: 64 * 1024),
            // struct token_bucket: a spinlock, chain_len and two hlist_nulls_heads.
            .init(name: "MPTCP token", bucket: 24, entries: 0, scale: 20, low: 0, high: 64 * 1024),
            // two struct udp_hslot per slot (hash and hash2); UDP_HTABLE_SIZE_MIN 256.
            .init(name: "UDP", bucket: 32, entries: 0, scale: 21, low: 256, high: 64 * 1024),
            .init(name: "UDP-Lite", bucket: 32, entries: 0, scale: 21, low: 256, high: 64 * 1024)
        ]
        return specs.map { s in
            LargeSystemHash(
                name: s.name, bytes: s.bucket * largeSystemHashEntries(s, nrKernelPages: nrKernelPages),
                early: s.early)
        }
    }

    /// alloc_large_system_hash's entry count (a power of two): from memory when the caller
    /// gives none (one bucket per 2^scale bytes of nr_kernel_pages rounded up to a MiB, one
    /// more scale step per ADAPT_SCALE_SHIFT above 64 GiB when there is no high limit, at
    /// least a page of buckets), then rounded up to a power of two and held between the
    /// limits (the default high limit: 1/16 of nr_all_pages in bytes).
    static func largeSystemHashEntries(_ s: LargeSystemHashSpec, nrKernelPages: Int) -> Int {
        var n = s.entries
        if n == 0 {
            n = roundUp(max(nrKernelPages, 0), MiB / Geometry.pageSize)
            var scale = s.scale
            if s.high == 0 {
                // ADAPT_SCALE_BASE 64 GiB, ADAPT_SCALE_SHIFT 2.
                var adapt = (64 * GiB) >> Geometry.pageShift
                while adapt < n { scale += 1; adapt <<= 2 }
            }
            n = scale > Geometry.pageShift ? n >> (scale - Geometry.pageShift) : n << (Geometry.pageShift - scale)
            if n * s.bucket < Geometry.pageSize { n = Geometry.pageSize / s.bucket }
        }
        n = roundUpPowerOfTwo(n)
        let maxEntries =
            s.high != 0 ? s.high : min(((nrKernelPages << Geometry.pageShift) >> 4) / s.bucket, 0x8000_0000)
        n = min(max(n, s.low), maxEntries)
        var e = 1
        while e * 2 <= n { e *= 2 }  // log2qty = ilog2(numentries)
        return e
    }

    static func roundUpPowerOfTwo(_ n: Int) -> Int {
        var p = 1
        while p < n { p <<= 1 }
        return p
    }
}
