#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A minimal HTTP/1.1 server for `GET /metrics` on Glibc sockets: one connection at a time,
/// the body computed per scrape. No dependency: FlyingFox or Hummingbird/NIO would add build
/// time to every CI run for one GET route.
public final class MetricsServer: Sendable {
    public let fd: Int32
    public let port: Int
    let body: @Sendable () -> String

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Binds `address` ("HOST:PORT", ":PORT" for every IPv4 address, port 0 for any free one).
    public init(address: String, body: @escaping @Sendable () -> String) throws {
        let parts = address.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let p = UInt16(parts[1]) else {
            throw Failure(description: "--listen \(address): expected HOST:PORT, e.g. 127.0.0.1:9101")
        }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = p.bigEndian
        let host = parts[0].isEmpty ? "0.0.0.0" : String(parts[0])
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &sin.sin_addr) == 1 else {
            throw Failure(description: "--listen \(address): '\(host)' is not an IPv4 address")
        }
        let s = socket(AF_INET, sockStream, 0)
        guard s >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        _ = fcntl(s, F_SETFD, FD_CLOEXEC)
        var one: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(s, 16) == 0 else {
            let m = String(cString: strerror(errno)); close(s)
            throw Failure(description: "--listen \(address): \(m)")
        }
        var got = sockaddr_in(), len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &got) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) }
        }
        fd = s
        port = Int(UInt16(bigEndian: got.sin_port))
        self.body = body
    }

    deinit { close(fd) }

    /// Serve connections until `limit` have been answered (nil: for ever).
    public func serve(limit: Int? = nil) {
        var served = 0
        while limit.map({ served < $0 }) ?? true {
            let c = accept(fd, nil, nil)
            if c < 0 { if errno == EINTR { continue }; return }
            handle(c)
            close(c)
            served += 1
        }
    }

    func handle(_ c: Int32) {
        var req: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        // Read the request head (up to the blank line); a body is not expected.
        while req.count < 65536 {
            let n = buf.withUnsafeMutableBytes { recv(c, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            req += buf[0..<n]
            if req.count >= 4, req.suffix(4) == [13, 10, 13, 10] { break }
        }
        let line = String(decoding: req.prefix(while: { $0 != 13 && $0 != 10 }), as: UTF8.self).split(separator: " ")
        let status: String, type: String, text: String
        if line.count >= 2, line[0] == "GET" || line[0] == "HEAD",
            line[1] == "/metrics" || line[1].hasPrefix("/metrics?")
        {
            status = "200 OK"; type = "text/plain; version=0.0.4; charset=utf-8"; text = line[0] == "HEAD" ? "" : body()
        } else if line.count >= 2, line[0] != "GET" && line[0] != "HEAD" {
            status = "405 Method Not Allowed"; type = "text/plain"; text = "only GET /metrics\n"
        } else {
            status = "404 Not Found"; type = "text/plain"; text = "memhp serves /metrics\n"
        }
        let bytes = Array(text.utf8)
        let head =
            "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n\r\n"
        sendAll(c, Array(head.utf8) + bytes)
    }

    func sendAll(_ c: Int32, _ b: [UInt8]) {
        var off = 0
        while off < b.count {
            let n = b[off...].withUnsafeBytes { send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { if errno == EINTR { continue }; return }
            off += n
        }
    }
}

/// SOCK_STREAM: an enum case in Glibc's module, a plain Int32 in Darwin's.
#if os(Linux)
private let sockStream = Int32(SOCK_STREAM.rawValue)
#else
private let sockStream = SOCK_STREAM
#endif
