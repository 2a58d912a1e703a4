import KernelFS
import MemoryModel

/// The `dump` instructions on the model: each reads the model's files through `KernelFS` and
/// prints what memhp-guest.c prints from the kernel's (`ObservationSchema` kinds, parsed with
/// `GuestReading`'s rules).
extension ModelRunner {
    func dump(_ item: DumpItem) {
        switch item {
        case .blocks(let sel): dumpBlocks(sel)
        case .meminfo: dumpMeminfo()
        case .zones: dumpZones()
        case .buddyinfo: dumpBuddyinfo()
        case .hugepages: dumpHugepages()
        case .pageflags(let sel): dumpPageflags(sel)
        case .params: dumpParams()
        case .layout: dumpLayout()
        case .vmstat: dumpVmstat()
        // The raw census is for snapshots of real guests (Snapshot/GuestLog); the model's own is read directly.
        case .kpageflags: break
        }
    }

    static let memdir = "/sys/devices/system/memory"

    func blockIDs() -> [Int] {
        list(Self.memdir).compactMap { name -> Int? in
            guard name.hasPrefix("memory"), let n = Int(name.dropFirst(6)) else { return nil }
            return n
        }.sorted()
    }

    /// `block_size_bytes` parsed as hex (0 when unreadable, as strtol gives).
    func blockSizeBytes() -> Int { GuestReading.strtol(firstLine(Self.memdir + "/block_size_bytes"), radix: 16) }

    func dumpBlocks(_ sel: [Int]?) {
        out.append("block_size_bytes value=0x" + String(blockSizeBytes(), radix: 16))
        // list_blocks (its first call faults the runner's pages in).
        guestListBlocks()
        let all = blockIDs()
        // memhp-guest opens five attribute files per block in one burst; each struct file is
        // freed only after an RCU grace period (file_free's call_rcu), so the burst outgrows
        // filp's free objects and takes the kernel's next slab pages (`kernelActivityRuns`).
        // A 6.1.0-57 trace (held-out seed 246 with a `dump blocks` right after the dimm-add)
        // saw __alloc_file take three new filp pages there, at the new Normal zone's head.
        machine.kernelActivityRuns()
        for i in sel ?? all { printBlock(i) }
        out.append("blocks_total count=\(all.count)")
    }

    func printBlock(_ i: Int) {
        let dir = Self.memdir + "/memory\(i)"
        guard exists(dir) else { out.append("block idx=\(i) state=absent"); return }
        var node = -1
        for e in list(dir) where e.hasPrefix("node") {
            if let n = Int(e.dropFirst(4)) { node = n }
        }
        var o = Observation("block")
        o.add("idx", i)
        o.add("phys_index", "0x" + firstLine(dir + "/phys_index"))
        o.add("state", firstLine(dir + "/state"))
        o.addQuoted("valid_zones", firstLine(dir + "/valid_zones"))
        o.add("removable", firstLine(dir + "/removable"))
        o.add("node", node)
        o.add("phys_device", firstLine(dir + "/phys_device"))
        out.append(o.line)
    }

    func meminfo() -> [String: Int]? {
        guard case .success(let t) = readFile("/proc/meminfo") else { return nil }
        return GuestReading.keyed(t, separator: ":")
    }

    /// memhp-guest's `stat_refresh()` before the meminfo, zones, hugepages and vmstat dumps:
    /// its open of /proc/sys/vm/stat_refresh is a path walk (the fold itself changes nothing
    /// the model keeps per cpu).
    func statRefresh() { _ = exists("/proc/sys/vm/stat_refresh") }

    func dumpMeminfo() {
        statRefresh()
        let d = meminfo()
        var o = Observation("meminfo")
        for k in ObservationSchema.meminfoKeys { o.add(k, d?[k] ?? -1) }
        out.append(o.line)
    }

    func dumpVmstat() {
        statRefresh()
        guard case .success(let t) = readFile("/proc/vmstat") else { return }
        let d = GuestReading.keyed(t, separator: " ")
        var o = Observation("vmstat")
        for k in ObservationSchema.vmstatKeys { o.add(k, d[k] ?? -1) }
        out.append(o.line)
    }

    /// /proc/zoneinfo through the guest's parser ([] when unreadable).
    func zoneinfo() -> [GuestReading.ZoneInfo] {
        guard case .success(let t) = readFile("/proc/zoneinfo") else { return [] }
        return GuestReading.zoneinfo(t)
    }

    func dumpZones() {
        statRefresh()
        for z in zoneinfo() {
            var o = Observation("zone")
            o.add("node", z.node); o.add("zone", z.name); o.add("free", z.free); o.add("pcp", z.pcp)
            o.add("min", z.min); o.add("low", z.low); o.add("high", z.high); o.add("spanned", z.spanned)
            o.add("present", z.present); o.add("managed", z.managed)
            o.add("protection", z.prot.map(String.init).joined(separator: ","))
            o.add("start_pfn", z.startPFN >= 0 ? String(z.startPFN) : "-")
            out.append(o.line)
        }
    }

    func dumpBuddyinfo() {
        guard case .success(let t) = readFile("/proc/buddyinfo") else { return }
        for z in GuestReading.buddyinfo(t) {
            out.append("buddy node=\(z.node) zone=\(z.zone) orders=\(z.orders.map(String.init).joined(separator: ","))")
        }
    }

    /// `readlong`: strtol of the first line; -1 when the file is missing or empty.
    func readLong(_ path: String) -> Int {
        let l = firstLine(path)
        return l.isEmpty ? -1 : GuestReading.strtol(l, radix: 10)
    }

    func dumpHugepages() {
        statRefresh()
        let hp = "/sys/kernel/mm/hugepages"
        func h(_ kb: Int, _ f: String) -> Int { readLong("\(hp)/hugepages-\(kb)kB/\(f)") }
        let mi = meminfo()
        var o = Observation("hugepages")
        o.add("sysctl_nr_hugepages", readLong("/proc/sys/vm/nr_hugepages"))
        o.add("nr_hugepages", h(2048, "nr_hugepages")); o.add("free", h(2048, "free_hugepages"))
        o.add("resv", h(2048, "resv_hugepages")); o.add("surplus", h(2048, "surplus_hugepages"))
        o.add("overcommit", h(2048, "nr_overcommit_hugepages"))
        o.add("meminfo_total", mi?["HugePages_Total"] ?? -1)
        o.add("MemFree", mi?["MemFree"] ?? -1); o.add("MemTotal", mi?["MemTotal"] ?? -1)
        out.append(o.line)
        // hsizes: its opendir, after the line above.
        guestOpendir()
        let sizes = list(hp).compactMap { n -> Int? in
            guard n.hasPrefix("hugepages-") else { return nil }
            return GuestReading.strtol(String(n.dropFirst(10)), radix: 10)
        }.sorted()
        for kb in sizes {
            out.append(
                "hstate size_kB=\(kb) nr=\(h(kb, "nr_hugepages")) free=\(h(kb, "free_hugepages")) resv=\(h(kb, "resv_hugepages")) surplus=\(h(kb, "surplus_hugepages")) overcommit=\(h(kb, "nr_overcommit_hugepages"))"
            )
        }
        for node in 0..<64 where exists("/sys/devices/system/node/node\(node)") {
            for kb in sizes {
                let p = "/sys/devices/system/node/node\(node)/hugepages/hugepages-\(kb)kB/"
                out.append(
                    "hstate_node node=\(node) size_kB=\(kb) nr=\(readLong(p + "nr_hugepages")) free=\(readLong(p + "free_hugepages")) surplus=\(readLong(p + "surplus_hugepages"))"
                )
            }
        }
    }

    func dumpParams() {
        for p in ObservationSchema.paramPaths {
            switch readFile(p) {
            case .success(var t):
                if t.hasSuffix("\n") { t.removeLast() }
                out.append(
                    Observation("param", [.init("path", p), .init("value", t.replacingTabs(), quoted: true)]).line)
            case .failure(let e):
                out.append("param path=\(p) errno=\(e.symbol)")
            }
        }
    }

    func dumpLayout() {
        guard case .success(let t) = readFile("/proc/iomem") else { return }
        for l in t.split(separator: "\n") where !l.hasPrefix(" ") && l.contains("System RAM") {
            out.append(Observation("iomem", [.init("line", String(l), quoted: true)]).line)
        }
    }

    /// Per-block page kinds from /proc/kpageflags, computed as memhp-guest's `dump_pageflags`
    /// does: one pread of a block's words per selected block (blocks that do not exist are
    /// `state=absent`), each page counted once, in the guest's order of precedence.
    func dumpPageflags(_ sel: [Int]?) {
        let path = "/proc/kpageflags"
        guard exists(path) else {
            out.append("pageflags errno=ENOENT")
            return
        }
        let bs = blockSizeBytes() >> 12
        for b in sel ?? blockIDs() {
            guard exists(Self.memdir + "/memory\(b)") else { out.append("pageflags block=\(b) state=absent"); continue }
            let bytes = (try? fs.readBytes(path, offset: b * bs * 8, count: bs * 8)) ?? []
            out.append(Self.pageflagsLine(block: b, bytes))
        }
    }

    /// `pageflags block=B pages=N` and the count of each `ObservationSchema.PageClass`.
    static func pageflagsLine(block: Int, _ bytes: [UInt8]) -> String {
        let (n, counts) = GuestReading.pageClasses(bytes)
        var o = Observation("pageflags")
        o.add("block", block)
        o.add("pages", n)
        for k in ObservationSchema.PageClass.allCases { o.add(k.rawValue, counts[k.index]) }
        return o.line
    }
}

extension String {
    fileprivate func replacingTabs() -> String { String(map { $0 == "\t" ? " " : $0 }) }
}
