/// `kvmalloc` (mm/util.c `kvmalloc_node`) at page granularity: a physically contiguous
/// large kmalloc first, a vmalloc area when that fails. Used by the kernel paths the model
/// follows that size a buffer from user input (io_uring's fixed-buffer arrays).
///
/// Requests up to KMALLOC_MAX_CACHE_SIZE are objects in the kmalloc-N slab caches: their
/// slab pages come from the caches' partial slabs, which the model does not track object by
/// object, so such a buffer takes no pages here.
public struct KvmallocBuffer: Sendable, Equatable {
    /// The owner of the buffer's pages: a `kmallocLarge` block or a vmalloc area's pages
    /// (`kernel`); nil for a slab object.
    public let owner: Int?
    /// The vmalloc area's page array when it is itself vmalloc'ed (more than a page of
    /// pointers: `__vmalloc_area_node`), nil otherwise.
    public let pageArray: Int?
    public let bytes: Int
}

extension Machine {
    /// KMALLOC_MAX_CACHE_SIZE with SLUB: 1 << KMALLOC_SHIFT_HIGH, KMALLOC_SHIFT_HIGH =
    /// PAGE_SHIFT + 1 (include/linux/slab.h).
    public static let kmallocMaxCacheSize = Geometry.pageSize << 1

    /// PMD_SIZE: x86_64 selects HAVE_ARCH_HUGE_VMALLOC and `arch_vmap_pmd_supported` (PSE), so
    /// a VM_ALLOW_HUGE_VMAP area of at least this size is built from order-9 pages.
    static let hugeVmapSize = Geometry.pageblockPages * Geometry.pageSize

    /// `get_order`: the smallest order whose block holds `bytes`.
    public static func getOrder(_ bytes: Int) -> Int {
        let pages = Swift.max(1, (bytes + Geometry.pageSize - 1) / Geometry.pageSize)
        return Int.bitWidth - (pages - 1).leadingZeroBitCount
    }

    /// `kvmalloc_node(bytes, gfp, node)`. `name` names the owners of its pages (unique per
    /// buffer). Returns nil when both the kmalloc and the vmalloc fail (the caller's -ENOMEM).
    public func kvmalloc(name: String, bytes: Int, gfp: GFP, node: Int = 0) -> KvmallocBuffer? {
        if bytes <= Machine.kmallocMaxCacheSize { return KvmallocBuffer(owner: nil, pageArray: nil, bytes: bytes) }
        // Larger than a page: no warning and no retrying, vmalloc is the fallback.
        var kmallocGFP = gfp.union([.nowarn, .comp])
        if !gfp.contains(.retryMayfail) { kmallocGFP.insert(.noretry) }
        kmallocGFP.remove(.nofail)
        // __kmalloc_large_node: an order >= MAX_ORDER request fails without trying.
        let order = Machine.getOrder(bytes)
        if order < Geometry.maxOrder,
            let id = try? createOwner(name: name, kind: .kmallocLarge, node: node, order: order, gfp: kmallocGFP)
        {
            if allocate(owner: id, blocks: 1) == 1 { return KvmallocBuffer(owner: id, pageArray: nil, bytes: bytes) }
            destroyOwner(id)
        }
        guard gfp.contains(.directReclaim) else { return nil }
        return vmalloc(name: name, bytes: bytes, gfp: gfp, node: node, allowHuge: true)
    }

    /// `__vmalloc_node_range` + `__vmalloc_area_node`: the page array (nested vmalloc above a
    /// page of pointers, a slab object below), then the pages, order 9 for a huge area and
    /// order 0 after a huge attempt fails. The area's kernel page tables are not modelled.
    func vmalloc(name: String, bytes: Int, gfp: GFP, node: Int, allowHuge: Bool) -> KvmallocBuffer? {
        var pageGFP = gfp.union([.nowarn])
        if !gfp.contains(.dma) && !gfp.contains(.dma32) { pageGFP.insert(.highmem) }
        let nested: GFP = gfp.intersection([.reclaim, .io, .fs, .nofail, .noretry, .retryMayfail]).union(.zero)
        for huge in allowHuge && bytes >= Machine.hugeVmapSize ? [true, false] : [false] {
            let unit = huge ? Machine.hugeVmapSize : Geometry.pageSize
            let size = (bytes + unit - 1) / unit * unit
            let smallPages = size / Geometry.pageSize
            let arrayBytes = smallPages * MemoryLayout<UInt64>.size
            var array: Int?
            if arrayBytes > Geometry.pageSize {
                guard
                    let a = vmalloc(name: name + ":pages", bytes: arrayBytes, gfp: nested, node: node, allowHuge: false)
                else { continue }
                array = a.owner
            }
            let order = huge ? Geometry.pageblockOrder : 0
            if let id = try? createOwner(
                name: name + (huge ? ":vmalloc-huge" : ":vmalloc"), kind: .kernel, node: node, order: order,
                gfp: pageGFP)
            {
                if allocate(owner: id, blocks: size >> (Geometry.pageShift + order)) == size
                    >> (Geometry.pageShift + order)
                {
                    return KvmallocBuffer(owner: id, pageArray: array, bytes: bytes)
                }
                destroyOwner(id)
            }
            if let a = array { destroyOwner(a) }
        }
        return nil
    }

    /// `kvfree`: the pages go back (`free_large_kmalloc` or `vfree`); a slab object's page is
    /// not modelled.
    public func kvfree(_ buffer: KvmallocBuffer) {
        if let id = buffer.owner { destroyOwner(id) }
        if let id = buffer.pageArray { destroyOwner(id) }
    }
}
