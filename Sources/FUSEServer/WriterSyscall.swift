#if os(Linux)
import Glibc

/// The size of the write system call a FUSE write request is part of.
///
/// FUSE splits one `write(2)` into requests of at most `max_write` bytes and never tells the
/// server the total, but 6.1's `proc_sys_call_handler` decides on the total: 4 MiB or more is
/// ENOMEM before a byte is copied, anything less runs the handler once on the whole buffer.
/// While the writer waits for our reply it sits in that system call, so
/// `/proc/PID/syscall` (PID from the request header) shows its number and arguments:
/// `write`/`pwrite64` carry the count, the `writev` family an iovec array whose lengths we
/// read from `/proc/PID/mem`. nil when it cannot be known (another path such as io_uring,
/// aio or splice, a writer that already left, no permission); the caller then gathers
/// requests until a short one, as before.
enum WriterSyscall {
    /// x86_64 system call numbers.
    static let write = 1, pwrite64 = 18, writev = 20, pwritev = 296, pwritev2 = 328
    /// `UIO_MAXIOV`.
    static let maxIov = 1024

    static func writeSize(pid: UInt32) -> Int? {
        #if !arch(x86_64)
        // The numbers above are x86_64's; elsewhere the size is unknown and the caller gathers.
        return nil
        #else
        guard pid > 0, let text = readSmallFile("/proc/\(pid)/syscall") else { return nil }
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count >= 4, let nr = Int(fields[0]) else { return nil }
        func arg(_ i: Int) -> UInt64? {
            let f = fields[i]
            return f.hasPrefix("0x") ? UInt64(f.dropFirst(2), radix: 16) : UInt64(f)
        }
        switch nr {
        case write, pwrite64:
            guard let count = arg(3) else { return nil }
            return Int(clamping: count)
        case writev, pwritev, pwritev2:
            guard let iov = arg(2), let n = arg(3), n <= UInt64(maxIov) else { return nil }
            return iovecTotal(pid: pid, address: iov, count: Int(n))
        default:
            return nil
        }
        #endif
    }

    /// The sum of `iov_len` over the writer's iovec array (16 bytes each on x86_64).
    static func iovecTotal(pid: UInt32, address: UInt64, count: Int) -> Int? {
        guard count > 0 else { return 0 }
        let fd = open("/proc/\(pid)/mem", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var raw = [UInt64](repeating: 0, count: 2 * count)
        let want = raw.count * 8
        let got = raw.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(truncatingIfNeeded: address)) }
        guard got == want else { return nil }
        var total = 0
        for i in 0..<count {
            let (sum, overflow) = total.addingReportingOverflow(Int(clamping: raw[2 * i + 1]))
            total = overflow ? Int.max : sum
        }
        return total
    }

    /// The first `capacity` bytes of a /proc file (read until EOF or full); nil when it
    /// cannot be opened or is empty.
    static func readSmallFile(_ path: String, capacity: Int = 512) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: capacity)
        var n = 0
        while n < buf.count {
            let r = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress! + n, $0.count - n) }
            if r <= 0 { break }
            n += r
        }
        return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : nil
    }
}
#endif
