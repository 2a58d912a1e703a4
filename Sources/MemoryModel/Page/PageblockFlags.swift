/// Per-pageblock state (`pageblock_flags` and the zone a pageblock's pages belong to): the
/// migratetype, and the flattened zone index (node * 5 + zone type; `UInt16.max` where no
/// memory is present). Flat arrays indexed by pfn >> pageblock_order, read on the allocator's
/// hot paths.
@usableFromInline struct PageblockFlags: Sendable {
    @usableFromInline var migrateType: [UInt8]
    @usableFromInline var zone: [UInt16]

    /// `count` pageblocks, all MIGRATE_MOVABLE (memmap_init's default) and without a zone.
    init(count: Int) {
        migrateType = [UInt8](repeating: MigrateType.movable.rawValue, count: count)
        zone = [UInt16](repeating: UInt16.max, count: count)
    }
}
