import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file memhp could not read or write, with the path and the C library's words for why
/// (`x.scn: No such file or directory`), never Foundation's "NSCocoaErrorDomain error 256";
/// a fault in the text names its line (`x.scn:3: not UTF-8 text`).
struct FileError: Error, CustomStringConvertible {
    var path: String
    var line: Int?
    var reason: String
    var description: String { line.map { "\(path):\($0): \(reason)" } ?? "\(path): \(reason)" }

    init(path: String, errno code: Int32) {
        self.path = path
        self.reason = String(cString: strerror(code))
    }
    init(path: String, reason: String) { self.path = path; self.reason = reason }
}

/// The whole file as UTF-8 text.
func readTextFile(_ path: String) throws -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FileError(path: path, errno: errno) }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw FileError(path: path, errno: errno)
        }
        if n == 0 { break }
        bytes += chunk[..<n]
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
        // A newline byte is never inside a UTF-8 sequence: the first line that does not
        // decode is where the fault is.
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        let bad = lines.firstIndex { String(validating: $0, as: UTF8.self) == nil } ?? 0
        var e = FileError(path: path, reason: "not UTF-8 text")
        e.line = bad + 1
        throw e
    }
    return text
}

/// Write `text` to `path` through a temporary file renamed over it: readers see the old
/// file or the new one.
func writeTextFile(_ text: String, to path: String) throws {
    do {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw FileError(path: path, reason: describe(error, path: path))
    }
}

/// A plain message for any error that reaches the top: file errors say which file and why.
func describe(_ error: Error, path: String? = nil) -> String {
    if let e = error as? FileError { return e.description }
    if let e = error as? CocoaError {
        let file = e.filePath ?? e.url?.path ?? path
        var why = "cannot access it"
        if let posix = e.underlying as? POSIXError {
            why = String(cString: strerror(posix.code.rawValue))
        } else if let ns = e.userInfo[NSUnderlyingErrorKey] as? NSError, ns.domain == NSPOSIXErrorDomain {
            why = String(cString: strerror(Int32(ns.code)))
        } else {
            switch e.code {
            case .fileNoSuchFile, .fileReadNoSuchFile: why = String(cString: strerror(ENOENT))
            case .fileReadNoPermission, .fileWriteNoPermission: why = String(cString: strerror(EACCES))
            case .fileWriteOutOfSpace: why = String(cString: strerror(ENOSPC))
            case .fileReadInapplicableStringEncoding, .fileWriteInapplicableStringEncoding: why = "not UTF-8 text"
            default: break
            }
        }
        return file.map { path == nil ? "\($0): \(why)" : why } ?? why
    }
    return "\(error)"
}
