/// An io_uring instance and its registered fixed buffers (io_uring/io_uring.c
/// `io_allocate_scq_urings`, io_uring/rsrc.c `io_sqe_buffers_register`), at the level of the
/// pages they take: the ring and SQE pages, the page and vma arrays `io_pin_pages` kvmallocs
/// for the duration of the pin, the `io_mapped_ubuf` with one bio_vec per page that stays,
/// and the FOLL_LONGTERM pins of the user pages. The small objects (the ring context, the
/// rsrc data and tags, the user_bufs table, the ring's file and socket) come from slab
/// caches and are not modelled page by page.
public struct IOUringInstance: Sendable {
    public let name: String
    /// The ring (SQ/CQ heads, CQEs, SQ array) and SQE pages (`io_pages_map`).
    let ringOwners: [Int]
    /// One `io_mapped_ubuf` per registered iovec.
    public internal(set) var buffers: [KvmallocBuffer] = []
    /// The anonymous mapping whose pages the buffers pin (nil before registration).
    public internal(set) var pinnedOwner: Int?
}

/// The C sizes the allocations derive from (x86_64, 6.1).
public enum IOUringSizes {
    /// SMP_CACHE_BYTES (L1_CACHE_SHIFT 6).
    static let cacheLine = 64
    /// `struct io_rings` up to `cqes[]`: `sq` and `cq` (struct io_uring: head and tail each
    /// ____cacheline_aligned_in_smp, 128 bytes), eight u32/atomic_t fields (32 bytes), cqes[]
    /// ____cacheline_aligned_in_smp: 288 rounded up to 320.
    static let ringsHeader = 320
    /// `struct io_uring_cqe` (without IORING_SETUP_CQE32) and `struct io_uring_sqe`.
    static let cqe = 16, sqe = 64
    /// `struct io_mapped_ubuf` up to `bvec[]` (u64 ubuf, u64 ubuf_end, unsigned int nr_bvecs
    /// padded, unsigned long acct_pages) and `struct bio_vec` (page pointer, len, offset).
    static let mappedUbufHeader = 32, bioVec = 16
    /// IORING_MAX_ENTRIES; `io_buffer_validate`'s SZ_1G limit per iovec.
    public static let maxEntries = 32768
    public static let maxBufferBytes = 1 << 30

    /// `rings_size` with `cq_entries = 2 * sq_entries` (no IORING_SETUP_CQSIZE).
    public static func ringsBytes(sqEntries: Int) -> Int {
        let off = (ringsHeader + 2 * sqEntries * cqe + cacheLine - 1) / cacheLine * cacheLine
        return off + 4 * sqEntries
    }
    /// The SQE array.
    public static func sqesBytes(sqEntries: Int) -> Int { sqEntries * sqe }
    /// `io_pin_pages`' page (and vma) array: a pointer per page.
    public static func pinArrayBytes(pages: Int) -> Int { pages * MemoryLayout<UInt64>.size }
    /// `struct_size(imu, bvec, nr_pages)`.
    public static func mappedUbufBytes(pages: Int) -> Int { mappedUbufHeader + pages * bioVec }
}

extension Machine {
    /// `io_uring_setup(entries)` with no flags: the SQ holds `roundup_pow_of_two(entries)`,
    /// the CQ twice that; each region is `io_pages_map`'d: one compound block of
    /// `get_order(size)` (GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN), single pages when
    /// that fails or the order passes 10. EINVAL outside 1...IORING_MAX_ENTRIES, ENOMEM.
    /// `node` is the task's MPOL_BIND node (`alloc_pages` follows the task's policy), nil for
    /// the default policy.
    public func ioUringSetup(name: String, entries: Int, node: Int? = nil) throws -> IOUringInstance {
        enterKernel()
        defer { exitToUserMode() }
        guard entries >= 1, entries <= IOUringSizes.maxEntries else {
            throw KernelError(.invalidArgument, "io_uring_setup: \(entries) entries")
        }
        let sq = 1 << (Int.bitWidth - (entries - 1).leadingZeroBitCount)
        var owners: [Int] = []
        let gfp: GFP = [.kernel, .account, .zero, .nowarn]
        for (part, bytes) in [
            ("rings", IOUringSizes.ringsBytes(sqEntries: sq)), ("sqes", IOUringSizes.sqesBytes(sqEntries: sq))
        ] {
            let order = Machine.getOrder(bytes)
            var placed = false
            if order <= 10,
                let id = try? createOwner(
                    name: "\(name):\(part)", kind: .kernel, node: node ?? 0, bound: node != nil, order: order,
                    gfp: order > 0 ? gfp.union(.comp) : gfp)
            {
                if allocate(owner: id, blocks: 1) == 1 { owners.append(id); placed = true } else { destroyOwner(id) }
            }
            if !placed && order > 0,
                let id = try? createOwner(
                    name: "\(name):\(part)", kind: .kernel, node: node ?? 0, bound: node != nil, gfp: gfp)
            {
                let pages = (bytes + Geometry.pageSize - 1) / Geometry.pageSize
                if allocate(owner: id, blocks: pages) == pages {
                    owners.append(id); placed = true
                } else {
                    destroyOwner(id)
                }
            }
            guard placed else {
                owners.forEach(destroyOwner)
                throw KernelError(.noMemory, "io_uring_setup: no pages for the \(part)")
            }
        }
        return IOUringInstance(name: name, ringOwners: owners)
    }

    /// IORING_REGISTER_BUFFERS of the anonymous mapping `owner` (its blocks in address order,
    /// already faulted in) as consecutive iovecs of `iovecPages` pages each, in order. Per
    /// iovec (`io_sqe_buffer_register`): kvmalloc the page and vma arrays, pin the pages
    /// (FOLL_LONGTERM, `pinLongterm`), kvfree the vma array, kvmalloc the io_mapped_ubuf,
    /// kvfree the page array. On success the mapping's pages are `.pinned`; on failure every
    /// buffer registered so far is unregistered (`__io_sqe_buffers_unregister`) and ENOMEM
    /// (or EFAULT, EINVAL, EBUSY as the kernel checks) is thrown.
    public func ioUringRegisterBuffers(_ ring: inout IOUringInstance, owner: Int, iovecPages: [Int]) throws {
        enterKernel()
        defer { exitToUserMode() }
        guard ring.pinnedOwner == nil else { throw KernelError(.resourceBusy, "buffers already registered") }
        guard !iovecPages.isEmpty, iovecPages.count <= 1 << 14 else {
            throw KernelError(.invalidArgument, "IORING_REGISTER_BUFFERS: \(iovecPages.count) iovecs")
        }
        guard let held = owners[owner].map({ $0.blocks.count << $0.order }), iovecPages.reduce(0, +) <= held else {
            throw KernelError(.badAddress, "iovecs beyond the mapping")
        }
        var start = 0
        var failure: KernelError?
        for (i, pages) in iovecPages.enumerated() {
            guard pages > 0, pages * Geometry.pageSize <= IOUringSizes.maxBufferBytes else {
                failure = KernelError(.badAddress, "iovec of \(pages) pages"); break
            }
            let tag = "\(ring.name):buf\(i)"
            let arrayBytes = IOUringSizes.pinArrayBytes(pages: pages)
            guard let pageArray = kvmalloc(name: tag + ":pages", bytes: arrayBytes, gfp: .kernel) else {
                failure = KernelError(.noMemory, "io_pin_pages: page array"); break
            }
            guard let vmaArray = kvmalloc(name: tag + ":vmas", bytes: arrayBytes, gfp: .kernel) else {
                kvfree(pageArray)
                failure = KernelError(.noMemory, "io_pin_pages: vma array"); break
            }
            do {
                try pinLongterm(owner: owner, blocks: start..<(start + pages))
            } catch let e as KernelError {
                kvfree(vmaArray); kvfree(pageArray)
                failure = e; break
            }
            kvfree(vmaArray)
            // 6.1 returns ENOMEM here without unpinning this iovec's pages (a leaked pin);
            // the model unpins them with the rest.
            guard let imu = kvmalloc(name: tag, bytes: IOUringSizes.mappedUbufBytes(pages: pages), gfp: .kernel) else {
                kvfree(pageArray)
                failure = KernelError(.noMemory, "io_sqe_buffer_register: io_mapped_ubuf"); break
            }
            kvfree(pageArray)
            ring.buffers.append(imu)
            start += pages
        }
        if let e = failure {
            ring.buffers.forEach(kvfree)
            ring.buffers = []
            throw e
        }
        ring.pinnedOwner = owner
        retype(owner: owner, to: .pinned)
    }

    /// IORING_UNREGISTER_BUFFERS and close(2): the pins are dropped (`unpin_user_pages`), the
    /// io_mapped_ubufs and the ring pages freed. The mapping itself stays with its owner.
    public func ioUringClose(_ ring: IOUringInstance) {
        enterKernel()
        defer { exitToUserMode() }
        if let id = ring.pinnedOwner { retype(owner: id, to: .anon) }
        ring.buffers.forEach(kvfree)
        ring.ringOwners.forEach(destroyOwner)
    }
}
