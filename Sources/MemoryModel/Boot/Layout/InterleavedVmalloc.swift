/// Where the pages of boot-time vmalloc areas go when the boot task allocates them with
/// NUMA_NO_NODE under its MPOL_INTERLEAVE policy (numa_policy_init): __vmalloc_node_range and
/// __vmalloc_area_node (mm/vmalloc.c), alloc_pages_bulk_array_interleave and
/// alloc_page_interleave (mm/mempolicy.c). Pages per node, order-0 and order-9 apart.
struct InterleavedVmalloc: Sendable, Equatable {
    /// The policy's nodes, in the order interleave_nodes() walks them.
    let nodes: [Int]
    /// num_online_nodes(): what vmalloc_huge divides an area by to decide on PMD mappings.
    let onlineNodes: Int
    /// Order-0 pages per node.
    var pages: [Int: Int] = [:]
    /// Order-9 (PMD) blocks per node, of areas vmalloc_huge maps with huge pages.
    var hugeBlocks: [Int: Int] = [:]
    /// Index in `nodes` of the next node interleave_nodes() answers (`il_prev` + 1).
    var cursor = 0

    init(nodes: [Int], onlineNodes: Int) {
        self.nodes = nodes.isEmpty ? [0] : nodes
        self.onlineNodes = max(onlineNodes, 1)
    }

    /// interleave_nodes(): the node after the last one used.
    mutating func nextNode() -> Int {
        let n = nodes[cursor % nodes.count]
        cursor = (cursor + 1) % nodes.count
        return n
    }

    /// One __vmalloc_node_range(size, NUMA_NO_NODE) call. `allowHuge`: VM_ALLOW_HUGE_VMAP
    /// (vmalloc_huge): when the area's share per online node is at least a PMD it is mapped
    /// with PMDs, its size rounded up to one, and its pages are order-9 blocks, one
    /// alloc_pages() (one interleave step) each. The page array (`nr_pages` pointers) is a
    /// nested vmalloc when it exceeds a page (else kmalloc: slab, not counted here). Order-0
    /// pages come in bulk requests of at most 100, each split evenly over the policy's nodes,
    /// the first nodes of the walk one more for the remainder: a request asks every node once,
    /// so the walk ends where it began and one area's remainders all go to the same node. The
    /// cursor then moves on one node per area, a stand-in for the interleaved allocations the
    /// kernel makes between two areas (the mapping's page-table pages, slab pages for its
    /// vm_struct), so successive areas' remainders land on successive nodes (6.1.0-57's three
    /// 1G nodes: the dentry table's 1024 pages 338, 338, 348, the inode table's 512 174, 169,
    /// 169, the tables' sums within 11 pages of each other).
    mutating func vmalloc(bytes: Int, allowHuge: Bool) {
        defer { cursor = (cursor + 1) % nodes.count }
        let pmd = Geometry.pageblockPages << Geometry.pageShift
        var size = roundUp(bytes, Geometry.pageSize)
        guard size > 0 else { return }
        let huge = allowHuge && size / onlineNodes >= pmd
        if huge { size = roundUp(size, pmd) }
        let smallPages = size >> Geometry.pageShift
        let arrayBytes = smallPages * 8  // sizeof(struct page *)
        if arrayBytes > Geometry.pageSize { vmalloc(bytes: arrayBytes, allowHuge: false) }
        if huge {
            for _ in 0..<(smallPages / Geometry.pageblockPages) { hugeBlocks[nextNode(), default: 0] += 1 }
            return
        }
        var left = smallPages
        while left > 0 {
            let request = min(100, left)
            let per = request / nodes.count
            var delta = request - per * nodes.count
            for _ in nodes.indices {
                pages[nextNode(), default: 0] += per + (delta > 0 ? 1 : 0)
                if delta > 0 { delta -= 1 }
            }
            left -= request
        }
    }
}
