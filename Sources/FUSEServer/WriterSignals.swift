#if os(Linux)
import Glibc

/// Whether a FUSE writer is being killed, read from `/proc/TID/status` (the request header's
/// pid is the writing thread's).
///
/// A write that `lock_device_hotplug_sysfs` restarts (-ERESTARTNOINTR) ends only when the
/// writer dies: a caught signal runs its handler and the write goes on. The FUSE kernel sends
/// FUSE_INTERRUPT at the writer's first signal of any kind and none after it, so the server
/// looks itself: `fatal_signal_pending` is SIGKILL in the thread's or the group's pending set
/// (`complete_signal` adds it to every thread for a signal whose default action kills).
enum WriterSignals {
    /// SIGKILL's bit in the SigPnd/ShdPnd masks (signal 9 → bit 8).
    static let sigkillBit: UInt64 = 1 << 8

    /// True when SIGKILL is pending for thread `tid`, or the thread is gone, or `tid` is 0
    /// (unknown: the interrupt is all there is to go by).
    static func fatalSignalPending(tid: UInt32) -> Bool {
        guard tid > 0, let text = WriterSyscall.readSmallFile("/proc/\(tid)/status", capacity: 8192) else {
            return true
        }
        for line in text.split(separator: "\n") where line.hasPrefix("SigPnd:") || line.hasPrefix("ShdPnd:") {
            let hex = line.split(separator: "\t").last.map { $0.trimmingCharacters(in: " ") } ?? ""
            if let mask = UInt64(hex, radix: 16), mask & sigkillBit != 0 { return true }
        }
        return false
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> Substring {
        var s = self
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return s
    }
}
#endif
