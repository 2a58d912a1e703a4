/// Boot stage 5: zone limits and each node's zones (zone_sizes_init, free_area_init:
/// arch zone ranges, `kernelcore=`/`movablecore=` and ZONE_MOVABLE, spanned and present pages).
extension BootLayout {
    /// arch_zone_lowest/highest_possible_pfn: DMA below 16 MiB, DMA32 below 4 GiB, Normal up
    /// to `max_pfn`, Device empty; ZONE_MOVABLE is carved from the highest populated one.
    static func archZoneRanges(firstPFN: PFN, maxPFN: PFN) -> (ranges: [ZoneType: PFNRange], movableZone: ZoneType) {
        func maxZonePFN(_ t: ZoneType) -> PFN {
            switch t {
            case .dma: min(dmaPFN, maxPFN)
            case .dma32: min(dma32PFN, maxPFN)
            case .normal: maxPFN
            case .movable, .device: 0
            }
        }
        var arch: [ZoneType: PFNRange] = [:]
        var running = firstPFN
        for t in ZoneType.allCases where t != .movable {
            let end = max(maxZonePFN(t), running)
            arch[t] = PFNRange(start: running, end: end)
            running = end
        }
        let movableZone =
            [ZoneType.device, .normal, .dma32, .dma].first { arch[$0].map { $0.end > $0.start } ?? false } ?? .dma
        return (arch, movableZone)
    }

    /// zone_spanned_pages_in_node, zone_absent_pages_in_node: every zone of every node, with
    /// ZONE_MOVABLE from `movableStart` (find_zone_movable_pfns_for_nodes) to the end of the
    /// movable zone's arch range.
    static func nodeLayouts(
        nodeIDs: [Int], memoryRanges: [(range: PFNRange, node: Int)], arch: [ZoneType: PFNRange],
        movableZone: ZoneType, movableStart zmp: [Int: PFN], params: KernelParameters
    ) -> [NodeLayout] {
        let empty = PFNRange(start: 0, end: 0)
        var nodes: [NodeLayout] = []
        for n in nodeIDs {
            let span = span(ofNode: n, memoryRanges)
            let rs = ranges(ofNode: n, memoryRanges)
            var zones: [ZoneLayout] = []
            for t in ZoneType.allCases {
                var z = ZoneLayout(
                    node: n, type: t, startPFN: 0, spannedPages: 0, presentPages: 0,
                    reservedPages: 0, lateFreedPages: 0, giganticPages: 0)
                if !rs.isEmpty {
                    let a = t == .movable ? empty : arch[t] ?? empty
                    let lo = a.start, hi = a.end
                    var zs = min(max(span.start, lo), hi), ze = min(max(span.end, lo), hi)
                    if let m = zmp[n] {
                        if t == .movable {
                            zs = m; ze = min(span.end, (arch[movableZone] ?? empty).end)
                        } else if !params.kernelcoreMirror && zs < m && ze > m {
                            ze = m
                        } else if zs >= m {
                            zs = ze
                        }
                    }
                    if !(ze < span.start || zs > span.end) {
                        ze = min(ze, span.end); zs = max(zs, span.start)
                        let spanned = max(0, ze - zs)
                        if spanned > 0 {
                            let zr = PFNRange(start: zs, end: ze)
                            var present = rs.reduce(0) { $0 + $1.clamped(to: zr).count }
                            // Nothing is mirrored.
                            if params.kernelcoreMirror && zmp[n] != nil && t == .normal { present = 0 }
                            z.startPFN = zs; z.spannedPages = spanned; z.presentPages = present
                        }
                    }
                }
                zones.append(z)
            }
            nodes.append(
                NodeLayout(
                    id: n, memory: rs, span: span, presentPages: rs.reduce(0) { $0 + $1.count },
                    movableStartPFN: zmp[n], zones: zones))
        }
        return nodes
    }

    /// find_zone_movable_pfns_for_nodes(): where ZONE_MOVABLE starts on each node.
    static func findZoneMovablePFNs(
        params: KernelParameters, nodes: [Int], ranges: (Int) -> [PFNRange], span: (Int) -> PFNRange,
        totalPages: Int, usableStart: PFN, log: inout [String]
    ) -> [Int: PFN] {
        var zmp: [Int: PFN] = [:]
        let memNodes = nodes.filter { !ranges($0).isEmpty }
        func finish() -> [Int: PFN] {
            var out: [Int: PFN] = [:]
            for (n, v) in zmp where v != 0 {
                let r = roundUp(v, Geometry.maxOrderPages)
                if r < span(n).end { out[n] = r }
            }
            return out
        }
        if params.movableNode {
            // Only memblock regions flagged hotpluggable count; QEMU's SRAT never marks boot RAM so.
            return finish()
        }
        if params.kernelcoreMirror {
            var below4G = false
            for n in memNodes {
                for r in ranges(n) {
                    if r.start < dma32PFN { below4G = true; continue }
                    zmp[n] = zmp[n].map { min($0, r.start) } ?? r.start
                }
            }
            if below4G { log.append("This configuration results in unmirrored kernel memory.") }
            return finish()
        }
        var required = 0, requiredMovable = 0
        switch params.kernelcore {
        case .pages(let p): required = p;
        case .percent(let p): required = totalPages * 100 * p / 10000;
        case nil: break
        }
        switch params.movablecore {
        case .pages(let p): requiredMovable = p;
        case .percent(let p): requiredMovable = totalPages * 100 * p / 10000;
        case nil: break
        }
        if requiredMovable > 0 {
            requiredMovable = min(totalPages, roundUp(requiredMovable, Geometry.maxOrderPages))
            required = max(required, totalPages - requiredMovable)
        }
        if required == 0 || required >= totalPages { return [:] }
        var usableNodes = memNodes.count
        repeat {
            var kernelcoreNode = required / usableNodes
            for n in memNodes {
                if required < kernelcoreNode { kernelcoreNode = required / usableNodes }
                var remaining = kernelcoreNode
                for r in ranges(n) {
                    var start = max(r.start, zmp[n] ?? 0)
                    let end = r.end
                    if start >= end { continue }
                    if start < usableStart {
                        let kernelPages = min(end, usableStart) - start
                        remaining -= min(kernelPages, remaining)
                        required -= min(kernelPages, required)
                        if end <= usableStart { zmp[n] = end; continue }
                        start = usableStart
                    }
                    let size = min(end - start, remaining)
                    zmp[n] = start + size
                    required -= min(required, size)
                    remaining -= size
                    if remaining == 0 { break }
                }
            }
            usableNodes -= 1
        } while usableNodes > 0 && required > usableNodes
        return finish()
    }

}
