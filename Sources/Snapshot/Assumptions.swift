/// What a snapshot cannot know, made explicit. Each default is what the kpageflags census
/// suggests most often; the user changes them with `memhp predict --assume ...`.
public struct Assumptions: Sendable, Equatable {
    /// Page ranges assumed long-term pinned (FOLL_LONGTERM: RDMA, VFIO, io_uring fixed
    /// buffers): /proc/kpageflags has no bit for a pin, so by default no page is pinned.
    /// Pinned pages stay LRU pages, pass isolation and then never migrate.
    public var pinned: [Range<Int>] = []
    /// ramfs pages (unevictable, file-backed, not swap-backed) never migrate: their mapping
    /// has neither migrate_folio nor writepage (6.1's fallback_migrate_folio fails on a dirty
    /// page). True on 6.1; set false for a kernel whose ramfs migrates.
    public var ramfsNeverMigrates = true
    /// Whether HugeTLB pages carry an optimized (freed) vmemmap. Nil: as the
    /// vm.hugetlb_optimize_vmemmap sysctl says now (pages allocated before a change keep
    /// their old state; kpageflags cannot tell).
    public var hvo: Bool?
    /// Unmapped pages without flags are a per-cpu free page (drained by zone_pcp_disable before
    /// isolation) or unmovable kernel memory (vmalloc, stacks): the files cannot tell which.
    /// nil (auto): free in a zone whose flagless pages are no more than its per-cpu lists hold
    /// (zoneinfo's pageset counts), kernel memory elsewhere. true/false: always kernel / free.
    public var flaglessIsKernel: Bool? = nil
    /// PageOffline pages (balloon, virtio-mem) are released by their driver in
    /// MEM_GOING_OFFLINE or are balloon-movable; false: they hold a reference (EBUSY).
    public var offlinePagesReleased = true
    /// Dirty page cache is migrated like clean (migration copies dirty pages; only a mapping
    /// without migrate_folio writes it back first, and offline_pages retries until that is
    /// done). kpageflags shows KPF_DIRTY, but the census does not keep it. false (`dirty=stuck`):
    /// page cache never migrates, as behind a writeback that cannot finish (an NFS server gone).
    public var dirtyPageCacheMigrates = true

    public init() {}

    /// `--assume KEY=VALUE` (pinned=START-END in pfns, hex with 0x; ramfs=stuck|migrates;
    /// hvo=on|off|sysctl; flagless=auto|kernel|free; offline-pages=released|held; dirty=migrates|stuck).
    public mutating func apply(_ text: String) throws {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw AssumptionError("expected KEY=VALUE, got '\(text)'") }
        let (k, v) = (parts[0], parts[1])
        switch (k, v) {
        case ("ramfs", "stuck"): ramfsNeverMigrates = true
        case ("ramfs", "migrates"): ramfsNeverMigrates = false
        case ("hvo", "on"): hvo = true
        case ("hvo", "off"): hvo = false
        case ("hvo", "sysctl"): hvo = nil
        case ("flagless", "kernel"): flaglessIsKernel = true
        case ("flagless", "free"): flaglessIsKernel = false
        case ("flagless", "auto"): flaglessIsKernel = nil
        case ("dirty", "migrates"): dirtyPageCacheMigrates = true
        case ("dirty", "stuck"): dirtyPageCacheMigrates = false
        case ("offline-pages", "released"): offlinePagesReleased = true
        case ("offline-pages", "held"): offlinePagesReleased = false
        case ("pinned", _):
            let r = v.split(separator: "-").map(String.init)
            func num(_ s: String) -> Int? { s.hasPrefix("0x") ? Int(s.dropFirst(2), radix: 16) : Int(s) }
            guard r.count == 2, let a = num(r[0]), let b = num(r[1]), a < b else {
                throw AssumptionError("pinned=START-END: pfns, e.g. pinned=0x100000-0x108000")
            }
            pinned.append(a..<b)
        default:
            throw AssumptionError(
                "unknown assumption '\(text)' (ramfs=stuck|migrates, hvo=on|off|sysctl, flagless=auto|kernel|free, offline-pages=released|held, dirty=migrates|stuck, pinned=START-END)"
            )
        }
    }

    /// One line per assumption, for the output's header.
    public var lines: [String] {
        [
            "long-term pinned pages: "
                + (pinned.isEmpty
                    ? "none (kpageflags cannot show a pin)"
                    : pinned.map { "pfn 0x\(String($0.lowerBound, radix: 16))-0x\(String($0.upperBound, radix: 16))" }
                        .joined(separator: ", ")),
            "ramfs pages: " + (ramfsNeverMigrates ? "never migrate (6.1)" : "migrate"),
            "HugeTLB vmemmap optimized: "
                + (hvo.map { $0 ? "yes (assumed)" : "no (assumed)" } ?? "as vm.hugetlb_optimize_vmemmap says"),
            "unmapped pages without flags: "
                + (flaglessIsKernel.map { $0 ? "kernel memory" : "free (per-cpu lists)" }
                    ?? "free where the zone's per-cpu lists can hold them all, else kernel memory"),
            "PageOffline pages: " + (offlinePagesReleased ? "released by their driver" : "held (EBUSY)"),
            "dirty page cache: "
                + (dirtyPageCacheMigrates ? "migrates like clean" : "never migrates (writeback assumed stuck)")
        ]
    }
}

public struct AssumptionError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}
