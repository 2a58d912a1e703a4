#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one seam between a snapshot and a kernel: files read (never written) under a root
/// directory. `/` is the live host; tests use a fake root (a `memhp export` tree, fixture
/// files). Every open is O_RDONLY, so nothing here can change the host's settings.
public struct HostRoot: Sendable {
    public let root: String

    public init(_ root: String = "/") {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
    }

    /// `root` joined with an absolute kernel path.
    public func hostPath(_ path: String) -> String { root == "/" ? path : root + path }

    /// Why a read failed, as the host said it (ENOENT, EACCES, ...).
    public struct ReadError: Error, Sendable {
        public let path: String
        public let errno: Int32
        public var message: String { String(cString: strerror(errno)) }
    }

    /// A text file's whole content; nil with the errno when it cannot be read.
    public func text(_ path: String) -> Result<String, ReadError> {
        switch bytes(path) {
        case .success(let b): return .success(String(decoding: b, as: UTF8.self))
        case .failure(let e): return .failure(e)
        }
    }

    /// The file's content, or nil when missing or unreadable.
    public func read(_ path: String) -> String? { try? text(path).get() }

    /// The first line of a one-value sysfs attribute, trimmed.
    public func value(_ path: String) -> String? {
        guard let t = read(path) else { return nil }
        return String(t.split(separator: "\n", omittingEmptySubsequences: false).first ?? "").trimmingSpaces
    }

    public func bytes(_ path: String) -> Result<[UInt8], ReadError> {
        let fd = open(hostPath(path), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(ReadError(path: path, errno: errno)) }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { hostRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(ReadError(path: path, errno: errno))
            }
            if n == 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return .success(out)
    }

    /// A directory's entries (no . and ..), sorted; nil when it cannot be listed.
    public func list(_ path: String) -> [String]? {
        guard let d = opendir(hostPath(path)) else { return nil }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// A binary file opened for chunked reads (/proc/kpageflags, /proc/kpagecount).
    public func openBinary(_ path: String) -> Result<BinaryFile, ReadError> {
        let fd = open(hostPath(path), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(ReadError(path: path, errno: errno)) }
        return .success(BinaryFile(fd: fd, path: path))
    }
}

/// pread(2) over a read-only descriptor, closed on deinit.
public final class BinaryFile {
    let fd: Int32
    public let path: String
    init(fd: Int32, path: String) { self.fd = fd; self.path = path }
    deinit { close(fd) }

    /// Fill `buffer` from byte `offset`; returns the bytes read (0 at the end), or -errno.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                return done > 0 ? done : -Int(errno)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s.removeLast() }
        return String(s)
    }
}

/// read(2), named apart from the enclosing types' own `read`.
private func hostRead(_ fd: Int32, _ buf: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, buf, count) }
