/// `h->hugepage_freelists[nid]` of one hstate: a doubly linked list per node, as the kernel's
/// list_head. `enqueue_huge_page` adds at the head, `dequeue_huge_page_node_exact` and
/// `remove_pool_huge_page` take from the head, and a `list_del` anywhere (dissolve, isolation,
/// demote) keeps the others' order, so which page a later shrink frees is the kernel's.
/// The nodes of all of the hstate's lists live in shared arrays (value semantics: a copy of the
/// hstate stays independent); a free huge page's memmap `link` names its node.
struct HugePageFreeLists: Sendable {
    static let none = UInt32.max
    /// Per node index: the page's head pfn and its neighbours.
    private var pfns = PFNList()
    private var prev: [UInt32] = [], next: [UInt32] = []
    /// Removed nodes, chained through `next`, reused before the arrays grow.
    private var spare = HugePageFreeLists.none
    private var first: [UInt32], last: [UInt32]
    private var counts: [Int]

    init(nodeCount: Int) {
        first = Array(repeating: HugePageFreeLists.none, count: nodeCount)
        last = first
        counts = Array(repeating: 0, count: nodeCount)
    }

    var nodeCount: Int { counts.count }
    func count(_ nid: Int) -> Int { counts[nid] }
    /// The head of a node's list (the page the next dequeue or shrink takes), or nil.
    func head(_ nid: Int) -> PFN? { first[nid] == HugePageFreeLists.none ? nil : pfns[Int(first[nid])] }
    /// The pfn a node index holds (for `verify`).
    func pfn(ofNode n: Int) -> PFN? { n < pfns.count ? pfns[n] : nil }

    /// `list_move(&page->lru, &h->hugepage_freelists[nid])`: at the head; returns its node.
    mutating func push(_ nid: Int, _ pfn: PFN) -> Int {
        let n: Int
        if spare != HugePageFreeLists.none {
            n = Int(spare)
            spare = next[n]
            pfns[n] = pfn
        } else {
            n = pfns.count
            precondition(n < Int(HugePageFreeLists.none), "too many free huge pages")
            pfns.append(pfn)
            prev.append(HugePageFreeLists.none)
            next.append(HugePageFreeLists.none)
        }
        let old = first[nid]
        prev[n] = HugePageFreeLists.none
        next[n] = old
        if old == HugePageFreeLists.none { last[nid] = UInt32(n) } else { prev[Int(old)] = UInt32(n) }
        first[nid] = UInt32(n)
        counts[nid] += 1
        return n
    }

    /// `list_del`: unlink node `n` of node `nid`'s list.
    mutating func remove(_ nid: Int, node n: Int) {
        let p = prev[n], x = next[n]
        if p == HugePageFreeLists.none { first[nid] = x } else { next[Int(p)] = x }
        if x == HugePageFreeLists.none { last[nid] = p } else { prev[Int(x)] = p }
        precondition(counts[nid] > 0, "huge page free list underflow")
        counts[nid] -= 1
        next[n] = spare
        spare = UInt32(n)
    }

    /// The first page from the head that `accept` takes, or nil (`list_for_each_entry`).
    func firstFromHead(_ nid: Int, where accept: (PFN) -> Bool) -> PFN? {
        var n = first[nid]
        while n != HugePageFreeLists.none {
            let p = pfns[Int(n)]
            if accept(p) { return p }
            n = next[Int(n)]
        }
        return nil
    }

    /// A node's free pages, head first.
    subscript(nid: Int) -> [PFN] {
        var out: [PFN] = []
        out.reserveCapacity(counts[nid])
        var n = first[nid]
        while n != HugePageFreeLists.none {
            out.append(pfns[Int(n)])
            n = next[Int(n)]
        }
        return out
    }
}
