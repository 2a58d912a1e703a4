import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The snapshot file: a magic line, the JSON header on one line, then the census bytes.
///
///     memhp-snapshot 1\n
///     {...header...}\n
///     <census: header.census.bytes bytes>
///
/// Documented in docs/snapshot.md. A reader refuses a file that is not one (foreign), a
/// newer format, a header that does not parse, or a census cut short or altered (its length
/// and FNV-1a hash are in the header).
public enum SnapshotFile {
    public static let magic = "memhp-snapshot"
    public static let formatVersion = 1

    public struct FormatError: Error, CustomStringConvertible, Sendable {
        public let path: String
        /// 1-based line of the file the problem is on (the census counts as line 3); 0 when the
        /// file could not be read at all.
        public let line: Int
        public let message: String
        public var description: String { line > 0 ? "\(path):\(line): \(message)" : "\(path): \(message)" }
    }

    public static func encode(_ header: HostSnapshot, census: PageCensus?) throws -> [UInt8] {
        var h = header
        let body = census?.encoded() ?? []
        if let census {
            h.census = HostSnapshot.CensusHeader(
                endPFN: census.endPFN, runs: census.runCount, bytes: body.count,
                fnv1a64: fnv1a64(body), pageCounts: header.census?.pageCounts ?? false,
                seconds: header.census?.seconds ?? 0,
                buddyTailsInferred: header.census?.buddyTailsInferred)
        } else {
            h.census = nil
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        var out = Array("\(magic) \(formatVersion)\n".utf8)
        out += Array(try enc.encode(h))
        out.append(0x0a)
        out += body
        return out
    }

    public static func decode(_ bytes: [UInt8], path: String) throws -> (HostSnapshot, PageCensus?) {
        func fail(_ line: Int, _ m: String) -> FormatError { FormatError(path: path, line: line, message: m) }
        guard let nl1 = bytes.prefix(64).firstIndex(of: 0x0a) else {
            throw fail(
                1, bytes.isEmpty ? "empty file, not a memhp snapshot" : "not a memhp snapshot (no `\(magic) N` line)")
        }
        let first = String(decoding: bytes[..<nl1], as: UTF8.self)
        let parts = first.split(separator: " ")
        guard parts.count == 2, parts[0] == magic, let version = Int(parts[1]) else {
            throw fail(1, "not a memhp snapshot (expected `\(magic) \(formatVersion)`, found `\(first.prefix(40))`)")
        }
        guard version <= formatVersion else {
            throw fail(
                1, "snapshot format \(version) is newer than this memhp reads (\(formatVersion)); use a newer memhp")
        }
        guard version >= 1 else { throw fail(1, "snapshot format \(version) does not exist") }
        guard let nl2 = bytes[(nl1 + 1)...].firstIndex(of: 0x0a) else {
            throw fail(2, "truncated: the header line does not end")
        }
        let header: HostSnapshot
        do {
            header = try JSONDecoder().decode(HostSnapshot.self, from: Data(bytes[(nl1 + 1)..<nl2]))
        } catch {
            throw fail(2, "the header is not valid: \(describe(error))")
        }
        guard header.format == version else {
            throw fail(2, "the header says format \(header.format), the first line \(version)")
        }
        let body = bytes[(nl2 + 1)...]
        guard let c = header.census else {
            guard body.isEmpty else { throw fail(3, "\(body.count) bytes after a header without a census") }
            return (header, nil)
        }
        guard body.count == c.bytes else {
            throw fail(
                3,
                body.count < c.bytes
                    ? "truncated: the census has \(body.count) of \(c.bytes) bytes"
                    : "\(body.count - c.bytes) bytes after the census")
        }
        guard fnv1a64(Array(body)) == c.fnv1a64 else {
            throw fail(3, "the census does not match its hash (altered or corrupt)")
        }
        let census: PageCensus
        do { census = try PageCensus.decode(Array(body)) } catch {
            throw fail(3, "the census does not decode: \(error)")
        }
        guard census.endPFN == c.endPFN, census.runCount == c.runs else {
            throw fail(
                3,
                "the census covers \(census.endPFN) pfns in \(census.runCount) runs, the header says \(c.endPFN) in \(c.runs)"
            )
        }
        return (header, census)
    }

    public static func read(_ path: String) throws -> (HostSnapshot, PageCensus?) {
        guard let d = FileManager.default.contents(atPath: path) else {
            throw FormatError(path: path, line: 0, message: unreadable(path))
        }
        return try decode(Array(d), path: path)
    }

    public static func write(_ path: String, _ header: HostSnapshot, census: PageCensus?) throws -> Int {
        let bytes = try encode(header, census: census)
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        return bytes.count
    }

    /// Why `path` cannot be read, in the C library's words (`No such file or directory`, `Is
    /// a directory`).
    static func unreadable(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        var byte: UInt8 = 0
        #if canImport(Glibc)
        let n = Glibc.read(fd, &byte, 1)
        #else
        let n = Darwin.read(fd, &byte, 1)
        #endif
        return n < 0 ? String(cString: strerror(errno)) : "cannot read the file"
    }

    static func fnv1a64(_ b: [UInt8]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for x in b { h = (h ^ UInt64(x)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }

    static func describe(_ e: Error) -> String {
        switch e {
        case DecodingError.keyNotFound(let k, _): return "field `\(k.stringValue)` is missing"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "field `\(c.codingPath.map(\.stringValue).joined(separator: "."))` has the wrong type"
        case DecodingError.dataCorrupted(let c): return c.debugDescription
        default: return "\(e)"
        }
    }
}
