/// The guest runner's own buffers that a scenario makes resident before its first step
/// (memhp-guest.c's `prefault`), so that its page-placement dumps do not find the observer.
///
/// memhp-guest.c's buffers fault in lazily, a page on its first write. A fault after a block
/// was onlined movable is served from that block (a user page is GFP_HIGHUSER_MOVABLE, highest
/// zone first) and refills that zone's per-cpu list: offline-ebusy-einval's new Movable block
/// held the 256 pages of the fill buffer, hvo-savings's pool started one 2 MiB chunk later
/// because the file buffer grew by a page (measured with a pagemap trace of the runner on
/// 6.1.0-57). A scenario that counts pages per block (`dump pageflags`, `dump kpageflags`)
/// therefore has the runner touch every buffer its steps use before the first step; the pages
/// come from boot memory like the rest of the runner's, and the model allocates the same number
/// for the guest program at boot (`MachineConfig.guestPrefaultPages`). Other scenarios (the
/// campaign) fault as before and get nothing here.
///
/// Every size is memhp-guest.c's: keep the two in step (each fixture of such a scenario
/// records the runner's own count, `@prefault`, which ConformanceTests compares with `pages`).
public enum GuestFootprint {
    public static let pageSize = 4096

    /// memhp-guest.c's page-aligned buffer groups (`core_bufs`, `hold_bufs`, `kpf_bufs`).
    public enum Group: String, Sendable, CaseIterable {
        /// Every step kind: qbuf[2][300000], blocks and blocksel (65536 ints each), zones (64 ×
        /// 144-byte zinfo), holds (64 × 96-byte hold), main's line/a1/a2/a3/h1/h2 (64 Ki, 32 Ki,
        /// 32 Ki, 1 Ki, 8 Ki, 32 Ki) and dump_pageflags's pf (4096 words).
        case core
        /// `hold`/`fill`: chunk (1 MiB, what fill_fd writes) and hold_slab's 4056-byte message.
        case hold
        /// `dump kpageflags`: f and c (65536 words each) and one `kpf` line (512 × 40 + 64).
        case kpf

        public var bytes: Int {
            switch self {
            case .core:
                2 * 300_000 + 2 * 65_536 * 4 + 64 * 144 + 64 * 96 + (65_536 + 32_768 + 32_768 + 1_024 + 8_192 + 32_768)
                    + 4_096 * 8
            case .hold: (1 << 20) + (8 + 4_048)
            case .kpf: 2 * 65_536 * 8 + 512 * 40 + 64
            }
        }

        /// Whole pages: each group is one page-aligned object padded to a page (WHOLE_PAGES).
        public var pages: Int { (bytes + GuestFootprint.pageSize - 1) / GuestFootprint.pageSize }
    }

    /// The file buffer (readfile's fbuf, 1 MiB): glibc serves it with its own mmap, the data 16
    /// bytes into it, and writes the chunk header into the first page itself, so touching the
    /// buffer spans 257 pages of which 256 are new.
    public static let fileBufferPages = (1 << 20) / pageSize
    /// PREFAULT_HEAP: 64 KiB malloc'd, touched and freed (glibc told never to trim it; opendir's
    /// buffers come from there). The chunk spans 17 pages and malloc itself wrote the first (the
    /// chunk's header) and the last (the top chunk's header after it): 15 new.
    public static let heapPages = (64 << 10) / pageSize + 1 - 2
    /// PREFAULT_STACK: a 64 KiB array in prefault_stack's frame. Not page-aligned (the stack's
    /// random offset is 16-byte granular), it spans 17 pages, the top one shared with its
    /// caller's frame and the bottom one with touch_range's frame below it, both resident: 15
    /// (19 of 20 runs on 6.1.0-57; one shared a third page: 14).
    public static let stackPages = (64 << 10) / pageSize + 1 - 2

    /// The groups a scenario's steps use, or none when no step counts pages per block.
    public static func groups(_ steps: [Step]) -> [Group] {
        var placement = false, holds = false, kpf = false
        for s in steps {
            switch s {
            case .dump(let items):
                for i in items {
                    if case .pageflags = i { placement = true }
                    if case .kpageflags = i { placement = true; kpf = true }
                }
            case .hold, .fillKernel: holds = true
            default: break
            }
        }
        guard placement else { return [] }
        return [.core] + (holds ? [.hold] : []) + (kpf ? [.kpf] : [])
    }

    /// Pages the runner makes resident for `groups` (0 for none): the groups, the file buffer,
    /// the stack and the heap.
    public static func pages(_ groups: [Group]) -> Int {
        guard !groups.isEmpty else { return 0 }
        return groups.reduce(0) { $0 + $1.pages } + fileBufferPages + stackPages + heapPages
    }

    /// The first `/steps` line for `groups` (nil for none): `PREFAULT core,hold`.
    public static func stepsLine(_ groups: [Group]) -> String? {
        groups.isEmpty ? nil : "PREFAULT " + groups.map(\.rawValue).joined(separator: ",")
    }
}
