import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Unix-socket plumbing for talking to QEMU: we listen, QEMU connects (its chardevs are clients),
/// so nothing races the guest's first output.
struct UnixListener {
    let fd: Int32
    let path: String

    init(path: String) throws {
        unlink(path)
        let s = socket(AF_UNIX, sockStream, 0)
        guard s >= 0 else { throw HarnessError("socket: \(String(cString: strerror(errno)))") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw HarnessError("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { p in
            for (i, b) in bytes.enumerated() { p[i] = b }
            p[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0, listen(s, 1) == 0 else {
            _ = hostClose(s)
            throw HarnessError("bind/listen \(path): \(String(cString: strerror(errno)))")
        }
        fd = s; self.path = path
    }

    /// Waits up to `timeout` seconds for QEMU to connect.
    func accept(timeout: Double) -> LineChannel? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(timeout * 1000)) == 1 else { return nil }
        let c = hostAccept(fd)
        return c >= 0 ? LineChannel(fd: c) : nil
    }

    func close() { _ = hostClose(fd); unlink(path) }
}

/// A byte stream split into lines, read without blocking after poll().
final class LineChannel {
    let fd: Int32
    private var buf: [UInt8] = []
    private(set) var eof = false

    init(fd: Int32) {
        self.fd = fd
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    /// Reads what is available; returns complete lines (without `\n`).
    func readLines() -> [String] {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
            if n > 0 { buf.append(contentsOf: chunk[0..<n]); continue }
            if n == 0 { eof = true }
            break
        }
        var lines: [String] = []
        while let nl = buf.firstIndex(of: 10) {
            var line = Array(buf[..<nl])
            if line.last == 13 { line.removeLast() }
            lines.append(String(decoding: line, as: UTF8.self))
            buf.removeSubrange(...nl)
        }
        return lines
    }

    func send(_ s: String) {
        var bytes = Array(s.utf8)
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n > 0 { bytes.removeFirst(n); continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { usleep(1000); continue }
            break
        }
    }

    func close() { _ = hostClose(fd) }
}

/// Waits until one of `fds` is readable or `timeout` passes.
func waitReadable(_ fds: [Int32], timeout: Double) {
    var pfds = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
    _ = poll(&pfds, nfds_t(pfds.count), Int32(max(0, timeout) * 1000))
}

public struct HarnessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// A QMP message: a command reply or an asynchronous event.
struct QMPMessage {
    var raw: String
    var json: [String: Any]
    var event: String? { json["event"] as? String }
    var isReturn: Bool { json["return"] != nil }
    var error: String? { (json["error"] as? [String: Any])?["desc"] as? String }

    init?(_ line: String) {
        guard let d = line.data(using: .utf8),
            let j = (try? JSONSerialization.jsonObject(with: d)) as? [String: Any]
        else { return nil }
        raw = line; json = j
    }

    /// The event's `data` as QEMU sent it (key order kept), blanks outside strings removed and
    /// `"` turned into `'`, like the captures' `qmp_event ... data="{'guest':true,...}"`.
    var compactData: String {
        guard let r = raw.range(of: "\"data\":") else { return "{}" }
        var out = ""
        var depth = 0, inStr = false, esc = false, started = false
        for c in raw[r.upperBound...] {
            if inStr {
                out.append(c == "\"" && !esc ? "'" : c)
                if esc { esc = false } else if c == "\\" { esc = true } else if c == "\"" { inStr = false }
                continue
            }
            if c == " " || c == "\n" || c == "\t" { continue }
            if c == "\"" { inStr = true; out.append("'"); continue }
            if c == "{" || c == "[" { depth += 1; started = true }
            if c == "}" || c == "]" { depth -= 1 }
            out.append(c)
            if started && depth == 0 { break }
            if !started && (c == "," || c == "}") { break }
        }
        return out
    }
}

/// close(2), named apart from the enclosing types' own `close`.
private func hostClose(_ fd: Int32) -> Int32 { close(fd) }

/// accept(2) with no peer address.
private func hostAccept(_ fd: Int32) -> Int32 { accept(fd, nil, nil) }

/// SOCK_STREAM: an enum case in Glibc's module, a plain Int32 in Darwin's.
#if os(Linux)
private let sockStream = Int32(SOCK_STREAM.rawValue)
#else
private let sockStream = SOCK_STREAM
#endif
