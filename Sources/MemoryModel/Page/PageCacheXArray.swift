/// The page cache's index of a file (`struct address_space.i_pages`, an XArray): one
/// `xa_node` of 64 slots per 64 pages and one more per level above, allocated from the
/// `radix_tree_node` slab cache as the file grows and freed when it is truncated. The cache is
/// SLAB_RECLAIM_ACCOUNT (SReclaimable) but a node that indexes pages is in use, so reclaim
/// cannot take it. Its slabs are order-1 pages of 14 nodes, as a 6.1 guest with one CPU reports
/// (`/sys/kernel/slab/radix_tree_node/{order,objs_per_slab}` = 1, 14): filling 166,168 ramfs
/// pages grew the cache by 188 slabs, and truncating the file freed them again.
///
/// Freeing those order-1 slab pages is what empties a zone's pcp lists after a large file is
/// released: `free_unref_page_commit` drains every list of the zone (`free_high`) when an
/// order 1–3 page is freed while `free_factor` is raised by the preceding bulk frees.
public enum PageCacheXArray {
    /// XA_CHUNK_SHIFT (CONFIG_BASE_SMALL=0): 64 slots a node.
    static let chunkShift = 6
    /// Objects per `radix_tree_node` slab (576-byte objects in an order-1 slab; SLUB's
    /// calculate_order with one CPU).
    public static let nodesPerSlab = 14
    /// The slab order of `radix_tree_node`.
    public static let slabOrder = 1

    /// `xa_node`s indexing a file of `pages` pages at indices 0..<pages: none for a single
    /// entry at index 0 (kept in `xa_head`), else every level's nodes up to one root.
    public static func nodes(pages: Int) -> Int {
        guard pages > 1 else { return 0 }
        var level = (pages + 63) >> chunkShift
        var total = level
        while level > 1 {
            level = (level + 63) >> chunkShift
            total += level
        }
        return total
    }

    /// Slabs holding the nodes of a file of `pages` pages (the cache's slabs are the file's alone).
    public static func slabs(pages: Int) -> Int { (nodes(pages: pages) + nodesPerSlab - 1) / nodesPerSlab }
}

extension Machine {
    /// Create the owner of a file's page cache (ramfs, tmpfs/memfd) together with the owner of
    /// its XArray's slab pages; `allocateFilePages` grows both, `destroyOwner` frees both
    /// (the pages, then their index, as truncation's RCU-deferred node frees come last).
    public func createFileOwner(name: String, kind: PageKind, node: Int = 0, bound: Bool = false) throws -> Int {
        let id = try createOwner(name: name, kind: kind, node: node, bound: bound)
        do {
            let xa = try createOwner(
                name: name + ":i_pages", kind: .slabReclaimable, node: node, bound: bound,
                order: PageCacheXArray.slabOrder, reclaimable: false)
            owners.slots[id]!.xarrayOwner = xa
        } catch {
            destroyOwner(id)
            throw error
        }
        return id
    }

    /// Add `count` pages to a file created by `createFileOwner`, page by page as
    /// `filemap_add_folio` does: the page first, then (`xas_nomem`) the slab page a new
    /// `xa_node` needs when the cache's slabs are full. Returns the pages added.
    @discardableResult
    public func allocateFilePages(owner id: Int, pages count: Int) -> Int {
        enterKernel()
        defer { exitToUserMode() }
        guard let xa = owners[id].map({ $0.xarrayOwner }) else { return 0 }
        guard xa != 0 else { return allocate(owner: id, blocks: count) }
        var done = 0
        while done < count {
            guard let have = owners[id]?.blocks.count, let slabs = owners[xa]?.blocks.count else { break }
            // Pages up to the first file size whose index needs one more slab come in one run
            // (`slabs(pages:)` only grows: a binary search).
            let remaining = count - done
            var run = remaining
            if PageCacheXArray.slabs(pages: have + remaining) > slabs {
                var lo = have + 1, hi = have + remaining
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if PageCacheXArray.slabs(pages: mid) > slabs { hi = mid } else { lo = mid + 1 }
                }
                run = lo - have
            }
            let got = allocate(owner: id, blocks: run)
            done += got
            guard got == run else { break }
            let need = PageCacheXArray.slabs(pages: have + run) - slabs
            if need > 0 && allocate(owner: xa, blocks: need) < need {
                // The node allocation failed: filemap_add_folio drops the page (-ENOMEM).
                release(owner: id, blocks: 1)
                done -= 1
                break
            }
        }
        return done
    }
}
