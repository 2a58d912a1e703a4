import Foundation
import SystemPackage
import XCTest

@testable import KernelFS
@testable import MemoryModel

/// Issue 11: no input traps, sysctl offsets as proc_sys_call_handler has them, a blocked
/// writer stalls no sysctl, and a saved session reloads to exactly the machine saved.
final class ReliabilityTests: XCTestCase {
    static let mem = "/sys/devices/system/memory"

    func boot() throws -> KernelFS { try KernelFS.journaledTestMachine() }

    /// Every readable text file's content (binary files excluded), by path.
    static func contents(_ fs: KernelFS) throws -> [String: String] {
        var out: [String: String] = [:]
        for (path, node) in try fs.walk() {
            guard case .file(let f) = node, f.readBytes == nil, f.show != nil, f.mode & 0o444 != 0 else { continue }
            out[path] = try fs.read(path)
        }
        return out
    }

    /// Save through the text form and load into a fresh boot of the same machine.
    func reload(_ a: KernelFS) throws -> KernelFS {
        let text = SavedSession(options: [], setupWrites: [], entries: a.journal).encoded()
        let session = try SavedSession(parsing: text, file: "test.state")
        XCTAssertEqual(session.entries, a.journal)
        let b = try boot()
        try b.replay(session.entries)
        return b
    }

    // MARK: item 3: no input traps

    /// `overcommit_kbytes=9223372036854775808` trapped in CommitLimit (ProcMeminfo.swift:79).
    /// vm_commit_limit() is pages in an unsigned long and show_val_kb shifts it unchecked.
    func testOvercommitKbytesAtTheTopOfU64ShowsTheKernelsWrappedCommitLimit() throws {
        let fs = try boot()
        func commitLimit() throws -> String {
            try fs.read("/proc/meminfo").split(separator: "\n").first { $0.hasPrefix("CommitLimit:") }.map(String.init)
                ?? ""
        }
        try fs.write("/proc/sys/vm/overcommit_kbytes", "9223372036854775808\n")
        XCTAssertEqual(try fs.read("/proc/sys/vm/overcommit_kbytes"), "9223372036854775808\n")
        // 2^63 kB >> 2 = 2^61 pages, << 2 = 2^63.
        XCTAssertEqual(try commitLimit(), "CommitLimit:    9223372036854775808 kB")
        try fs.write("/proc/sys/vm/overcommit_kbytes", "18446744073709551615\n")
        // (2^64 - 1) >> 2 << 2 = 2^64 - 4.
        XCTAssertEqual(try commitLimit(), "CommitLimit:    18446744073709551612 kB")
        XCTAssertThrowsError(try fs.write("/proc/sys/vm/overcommit_kbytes", "18446744073709551616\n"))
        // A negative ratio is an unsigned long in the kernel's product.
        try fs.write("/proc/sys/vm/overcommit_ratio", "-2147483648\n")
        _ = try commitLimit()
        try fs.withLock { try $0.verify() }
    }

    // MARK: item 4: sysctl offsets

    /// sysctl_writes_strict=1: a write at a non-zero position to a numeric sysctl returns its
    /// count and changes nothing; the 4 MiB limit (KMALLOC_MAX_SIZE) comes first.
    func testSysctlWriteAtAnOffsetIsIgnored() throws {
        let fs = try boot()
        let before = try fs.read("/proc/sys/vm/min_free_kbytes")
        XCTAssertEqual(
            try fs.write("/proc/sys/vm/min_free_kbytes", Array("50000\n".utf8), context: WriteContext(position: 5)), 6)
        XCTAssertEqual(try fs.read("/proc/sys/vm/min_free_kbytes"), before)
        XCTAssertEqual(
            try fs.write("/proc/sys/vm/nr_hugepages", Array("7\n".utf8), context: WriteContext(position: 1)), 2)
        XCTAssertEqual(try fs.read("/proc/sys/vm/nr_hugepages"), "0\n")
        // At offset 0 it applies.
        XCTAssertEqual(try fs.write("/proc/sys/vm/min_free_kbytes", "50000\n"), 6)
        XCTAssertEqual(try fs.read("/proc/sys/vm/min_free_kbytes"), "50000\n")
    }

    /// proc_sys_call_handler refuses 4 MiB or more with ENOMEM before the handler: nothing changes.
    func testSysctlWriteOf4MiBIsENOMEMAndChangesNothing() throws {
        let fs = try boot()
        var big = Array("50000\n".utf8)
        big += [UInt8](repeating: 0x20, count: (4 << 20) - big.count)
        XCTAssertThrowsError(try fs.write("/proc/sys/vm/min_free_kbytes", big)) { e in
            XCTAssertEqual((e as? KernelError)?.errno, .noMemory)
        }
        XCTAssertNotEqual(try fs.read("/proc/sys/vm/min_free_kbytes"), "50000\n")
        // One byte less: the handler runs on the first 4095 bytes; all whitespace after the
        // number is consumed within its window only, so the count is short of the write.
        big.removeLast()
        let n = try fs.write("/proc/sys/vm/min_free_kbytes", big)
        XCTAssertEqual(try fs.read("/proc/sys/vm/min_free_kbytes"), "50000\n")
        XCTAssertEqual(n, big.count)
    }

    /// A sysctl read gives the first `count` bytes at offset 0 and nothing at any other
    /// offset (`*ppos && !write`); sysfs and procfs seq files give the slice.
    func testReadsAtAnOffsetPerFileType() throws {
        let fs = try boot()
        try fs.write("/proc/sys/vm/min_free_kbytes", "50000\n")
        XCTAssertEqual(try fs.readBytes("/proc/sys/vm/min_free_kbytes", offset: 0, count: 100), Array("50000\n".utf8))
        XCTAssertEqual(try fs.readBytes("/proc/sys/vm/min_free_kbytes", offset: 0, count: 2), Array("50".utf8))
        XCTAssertEqual(try fs.readBytes("/proc/sys/vm/min_free_kbytes", offset: 2, count: 100), [])
        let bs = try fs.read("\(Self.mem)/block_size_bytes")
        XCTAssertEqual(
            try fs.readBytes("\(Self.mem)/block_size_bytes", offset: 2, count: 100), Array(bs.utf8.dropFirst(2)))
        let meminfo = try fs.read("/proc/meminfo")
        XCTAssertEqual(
            try fs.readBytes("/proc/meminfo", offset: 10, count: 5), Array(meminfo.utf8.dropFirst(10).prefix(5)))
    }

    /// kernfs passes the position to no sysfs store: a write at an offset applies.
    func testSysfsWriteAtAnOffsetApplies() throws {
        let fs = try boot()
        try fs.write("\(Self.mem)/auto_online_blocks", Array("online\n".utf8), context: WriteContext(position: 9))
        XCTAssertEqual(try fs.read("\(Self.mem)/auto_online_blocks"), "online\n")
    }

    // MARK: item 5: a blocked writer stalls no sysctl

    /// An offline blocked on pinned pages (a real-time writer without a signal) and 40
    /// writers queued on device_hotplug_lock behind it: a sysctl write takes no hotplug lock
    /// and completes at once (bound: 10 s, generous for a loaded 2-core host).
    func testSysctlWriteCompletesWithABlockedOfflineAndQueuedWriters() throws {
        // ConcurrencyTests.pinnedBlock's machine: memory33 holds long-term pinned pages.
        let m = try Machine.boot(MachineConfig(memBytes: 2 << 30, maxmemBytes: 16 << 30, slots: 4))
        let fs = KernelFS(machine: m)
        try fs.withHotplugLock { m in _ = try m.hotAddDIMM(id: "dimm1", sizeBytes: 256 << 20) }
        for id in [32, 33] { try fs.write("\(Self.mem)/memory\(id)/state", "online_kernel\n") }
        m.kernelActivityRuns()  // the pinning process: its page tables come first
        let o = try m.createOwner(name: "test:pinned", kind: .pinned)
        m.allocate(owner: o, blocks: 40_000)
        let target = 33
        XCTAssertTrue(m.owners[o]!.blocks.contains { m.blocks[33]!.range.contains(Int($0)) })
        final class Flag: @unchecked Sendable {
            private var on = false; private let l = NSLock()
            func set() { l.lock(); on = true; l.unlock() }
            var value: Bool { l.lock(); defer { l.unlock() }; return on }
        }
        let signal = Flag()
        let group = DispatchGroup()
        let blocked = Thread {
            _ = try? fs.write(
                "\(Self.mem)/memory\(target)/state", "offline\n", context: WriteContext(signalPending: { signal.value })
            )
            group.leave()
        }
        group.enter(); blocked.start()
        let start = Date()
        while (try? fs.read("\(Self.mem)/memory\(target)/state")) != "going-offline\n",
            Date().timeIntervalSince(start) < 30
        { usleep(1000) }
        XCTAssertEqual(try fs.read("\(Self.mem)/memory\(target)/state"), "going-offline\n")
        for _ in 0..<40 {
            group.enter()
            Thread {
                _ = try? fs.write(
                    "\(Self.mem)/memory\(target)/state", "offline\n", context: WriteContext(signalPending: { true }))
                group.leave()
            }.start()
        }
        usleep(50_000)
        let t0 = Date()
        XCTAssertEqual(try fs.write("/proc/sys/vm/watermark_scale_factor", "11\n"), 3)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 10)
        XCTAssertEqual(try fs.read("/proc/sys/vm/watermark_scale_factor"), "11\n")
        XCTAssertEqual(
            try fs.read("\(Self.mem)/memory\(target)/state"), "going-offline\n", "the offline ended by itself")
        signal.set()
        XCTAssertEqual(group.wait(timeout: .now() + 120), .success)
        try fs.withLock { try $0.verify() }
    }

    // MARK: item 2: saved sessions reload exactly

    /// `echo online_kernel > memory32/state` on an online block is EINVAL yet sets
    /// online_type; a later `echo 1 > online` onlines into Normal. A journal of accepted
    /// writes only lost that; the reloaded machine onlined into Movable.
    func testRefusedWriteWithAnEffectReloadsExactly() throws {
        let a = try boot()
        try a.write("\(Self.mem)/memory33/state", "online_movable\n")
        XCTAssertThrowsError(try a.write("\(Self.mem)/memory33/state", "online_kernel\n"))
        let b = try reload(a)
        for fs in [a, b] {
            try fs.write("\(Self.mem)/memory33/state", "offline\n")
            try fs.write("\(Self.mem)/memory33/online", "1\n")
        }
        XCTAssertEqual(try a.read("\(Self.mem)/memory33/valid_zones"), "Normal\n")
        XCTAssertEqual(try Self.contents(a), try Self.contents(b))
        try b.withLock { try $0.verify() }
    }

    /// An offline that fails (here: EBUSY on a block spanning zones... or a timeout) drains
    /// pcp lists; the reload must carry that too, so every file reads the same.
    func testFailedOfflineReloadsExactly() throws {
        let a = try boot()
        for id in 32...35 { try a.write("\(Self.mem)/memory\(id)/state", "online_kernel\n") }
        try a.write("/proc/sys/vm/nr_hugepages", "100\n")
        for id in 0...35 { _ = try? a.write("\(Self.mem)/memory\(id)/state", "offline\n") }
        _ = try? a.write("/proc/sys/vm/lowmem_reserve_ratio", "1 2 x\n")
        _ = try a.read("/proc/sys/vm/lowmem_reserve_ratio")
        let b = try reload(a)
        XCTAssertEqual(try Self.contents(a), try Self.contents(b))
        try b.withLock { try $0.verify() }
    }

    /// Issue 11 item 1: the sandbox's binds come from the served tree, so every file the model
    /// serves lies under a bind (the eleven /proc/sys/vm files and /proc/iomem that once showed
    /// the host's, and debugfs with the module loaded), and /proc files are bound one by one
    /// (the host's other /proc files stay).
    func testSandboxBindsCoverEveryServedFile() throws {
        let fs = try boot()
        try fs.withLock { try $0.loadMemoryNotifierErrorInject() }
        let binds = try fs.sandboxBinds()
        var files: [String] = []
        for (path, node) in try fs.walk() {
            if case .directory = node { continue }
            files.append(path)
            XCTAssertTrue(binds.contains { path == $0 || path.hasPrefix($0 + "/") }, "\(path) is not covered")
        }
        for f in [
            "min_free_kbytes", "watermark_scale_factor", "watermark_boost_factor", "lowmem_reserve_ratio",
            "overcommit_memory", "overcommit_ratio", "overcommit_kbytes", "percpu_pagelist_high_fraction",
            "drop_caches", "compact_memory", "stat_refresh"
        ] {
            XCTAssertTrue(binds.contains("/proc/sys/vm/" + f), f)
        }
        XCTAssertTrue(binds.contains("/proc/iomem"))
        XCTAssertTrue(binds.contains("/sys/kernel/debug"))
        XCTAssertTrue(files.contains("/sys/kernel/debug/notifier-error-inject/memory/actions/MEM_GOING_OFFLINE/error"))
        XCTAssertFalse(binds.contains("/proc"), "all of /proc would hide the host's processes")
    }

    /// Root's chmod/chown of sysfs files (issue 11 item 6) are part of the saved machine:
    /// journaled as `attr` lines, merged field by field, restored by the reload; /proc/sys
    /// refuses them (EPERM, proc_sys_setattr), an unserved path is ENOENT.
    func testChmodAndChownAreSavedAndRestored() throws {
        let a = try boot()
        try a.setAttributes("\(Self.mem)/memory33/online", AttributeOverride(mode: 0o600))
        try a.setAttributes("\(Self.mem)/memory33/online", AttributeOverride(uid: 1, gid: 2))
        try a.setAttributes("/proc/meminfo", AttributeOverride(mode: 0o400))
        XCTAssertThrowsError(try a.setAttributes("/proc/sys/vm/min_free_kbytes", AttributeOverride(mode: 0o600))) {
            XCTAssertEqual(($0 as? KernelError)?.errno, .notPermitted)
        }
        XCTAssertThrowsError(try a.setAttributes("\(Self.mem)/memory99/online", AttributeOverride(mode: 0o600))) {
            XCTAssertEqual(($0 as? KernelError)?.errno, .noSuchFileOrDirectory)
        }
        // chmod/chown walk the path: its first-time lookup is journaled as a read before them.
        let attrs = a.journal.filter { $0.kind == .attr }
        XCTAssertEqual(String(decoding: attrs[0].line, as: UTF8.self), "attr \(Self.mem)/memory33/online mode=600")
        XCTAssertEqual(String(decoding: attrs[1].line, as: UTF8.self), "attr \(Self.mem)/memory33/online uid=1 gid=2")
        XCTAssertEqual(attrs.count, 3)
        let b = try reload(a)
        XCTAssertEqual(
            b.attributeOverride("\(Self.mem)/memory33/online"), AttributeOverride(mode: 0o600, uid: 1, gid: 2))
        XCTAssertEqual(b.attributeOverride("/proc/meminfo"), AttributeOverride(mode: 0o400))
        XCTAssertNil(b.attributeOverride("\(Self.mem)/memory32/online"))
    }

    /// A removed memory block takes its chmod/chown with it: `device_unregister` deletes the
    /// kobject and its kernfs nodes, and the block added again at the same address is a new
    /// kobject with sysfs's defaults (`online` 0644 root:root). Other files keep theirs, a
    /// chmod after the re-add is kept, and a reload (the eject and add replayed as events)
    /// gives the same overrides.
    func testARemovedBlockLosesItsModeAndOwnerAndTheReaddedOneHasTheDefaults() throws {
        func event(_ text: String, _ m: Machine) throws {
            switch text {
            case "dimm-del d2": try m.acpiEjectDIMM(id: "d2")
            case "dimm-add d2": try m.hotAddDIMM(id: "d2", sizeBytes: 512 << 20)
            default: XCTFail("unknown event \(text)")
            }
        }
        let a = try boot()
        try a.perform(event: "dimm-add d2") { try event("dimm-add d2", $0) }
        // d1 (boot) is blocks 32-35; d2 is the next 512 MiB of the device memory region.
        let online = "\(Self.mem)/memory36/online"
        let state = "\(Self.mem)/memory36/state"
        let link = "/sys/devices/system/node/node0/memory36"
        XCTAssertEqual(try a.read(state), "offline\n", "d2's blocks are offline: the eject can remove them")
        try a.setAttributes(online, AttributeOverride(mode: 0o600, uid: 7, gid: 8))
        try a.setAttributes(state, AttributeOverride(mode: 0o400))
        try a.setAttributes(link, AttributeOverride(uid: 9))
        try a.setAttributes("\(Self.mem)/memory33/online", AttributeOverride(mode: 0o600))
        try a.setAttributes("/proc/meminfo", AttributeOverride(mode: 0o400))
        XCTAssertEqual(a.attributeOverride(online), AttributeOverride(mode: 0o600, uid: 7, gid: 8))
        try a.perform(event: "dimm-del d2") { try event("dimm-del d2", $0) }
        XCTAssertThrowsError(try a.read(state), "memory36 is gone")
        XCTAssertNil(a.attributeOverride(online))
        try a.perform(event: "dimm-add d2") { try event("dimm-add d2", $0) }
        XCTAssertEqual(try a.read(state), "offline\n", "memory36 is back")
        XCTAssertNil(a.attributeOverride(online), "a new kobject: default mode and owner")
        XCTAssertNil(a.attributeOverride(state))
        XCTAssertNil(a.attributeOverride(link))
        XCTAssertEqual(
            a.allAttributeOverrides,
            [
                "/proc/meminfo": AttributeOverride(mode: 0o400),
                "\(Self.mem)/memory33/online": AttributeOverride(mode: 0o600)
            ])
        // Removed and added again with no look at the overrides in between: still dropped.
        try a.setAttributes(online, AttributeOverride(mode: 0o640))
        try a.perform(event: "dimm-del d2") { try event("dimm-del d2", $0) }
        try a.perform(event: "dimm-add d2") { try event("dimm-add d2", $0) }
        XCTAssertNil(a.attributeOverride(online))
        try a.setAttributes(online, AttributeOverride(uid: 3))
        XCTAssertEqual(a.attributeOverride(online), AttributeOverride(uid: 3))

        let text = SavedSession(options: [], setupWrites: [], entries: a.journal).encoded()
        let b = try boot()
        try b.replay(try SavedSession(parsing: text, file: "test.state").entries, events: event)
        XCTAssertEqual(b.allAttributeOverrides, a.allAttributeOverrides)
        XCTAssertEqual(b.allAttributeOverrides.count, 3)
    }

    /// A replayed write that answers differently stops the load with its line.
    func testReplayMismatchNamesTheLine() throws {
        var e = JournalEntry(kind: .write, path: "/proc/sys/vm/nr_hugepages", bytes: Array("x\n".utf8), result: 2)
        let session = SavedSession(options: ["--mem", "1G"], setupWrites: [], entries: [e])
        let parsed = try SavedSession(parsing: session.encoded(), file: "s")
        XCTAssertEqual(parsed.entryLines, [4])
        let fs = try boot()
        XCTAssertThrowsError(try fs.replay(parsed.entries)) { err in
            XCTAssertEqual((err as? ReplayError)?.index, 0)
            XCTAssertTrue("\(err)".contains("gave EINVAL"), "\(err)")
        }
        e.result = -22
        XCTAssertNoThrow(try boot().replay([e]))
    }

    /// A file cut mid-line, bad hex, an unknown line: errors with FILE:LINE.
    func testSessionFileErrorsNameFileAndLine() throws {
        func error(_ text: String) -> String {
            do { _ = try SavedSession(parsing: Array(text.utf8), file: "f.state"); return "no error" } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(
            error("memhp-state 2\noption --mem\nwrite /proc/sys/vm/nr_hugepages 310a ret=2\nwrite /pro"),
            "f.state:4: the last line has no newline: the file was cut short")
        XCTAssertTrue(error("memhp-state 2\nwrite /p 3g ret=1\n").hasPrefix("f.state:2:"))
        XCTAssertTrue(error("memhp-state 2\nfrobnicate\n").hasPrefix("f.state:2:"))
        XCTAssertTrue(error("memhp-state 1\n").hasPrefix("f.state:1:"))
        XCTAssertTrue(error("").hasPrefix("f.state:1:"))
    }

    /// Every field survives the text form: empty and binary bytes, positions, errnos,
    /// hotplug serials, waits, interleavings, events with spaces.
    func testJournalLinesRoundTrip() throws {
        var w = JournalEntry(kind: .write, path: "/proc/sys/vm/nr_hugepages", bytes: [], position: 7, result: 0)
        var h = JournalEntry(
            kind: .write, path: "/sys/devices/system/memory/memory32/state", bytes: [0, 0xff, 10], result: -4)
        h.hotplugSerial = 3; h.waits = 12; h.interrupted = true
        w.during = (3, 5)
        let e = JournalEntry(kind: .event, path: "hold anon o1 20")
        var r = JournalEntry(kind: .read, path: "/proc/sys/vm/lowmem_reserve_ratio")
        r.during = (3, 1)
        for x in [w, h, e, r] {
            let line = x.line
            XCTAssertEqual(JournalEntry(line: line[...]), x, String(decoding: line, as: UTF8.self))
        }
    }

    /// Without journaling (no --state), nothing is kept.
    func testNoJournalWithoutState() throws {
        let fs = try boot()
        fs.journaling = false
        for _ in 0..<100 { try fs.write("/proc/sys/vm/min_free_kbytes", "50000\n") }
        XCTAssertEqual(fs.journal.count, 0)
    }
}
