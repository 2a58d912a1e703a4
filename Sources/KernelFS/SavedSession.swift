/// A machine that outlives a process (`memhp mount|sandbox|export --state FILE`): the
/// machine options it was booted with, the `--write` options of the command line that
/// created it, and the journal of everything that reached the model since (`JournalEntry`,
/// refused writes included), replayed on load. The model is deterministic, so the reload is
/// the machine that was saved, by construction; a replayed write that answers differently
/// from the recorded one stops the load with the file's line.
///
/// Text, one item a line: `memhp-state 2`, then `option ARG` per machine option, `setup HEX`
/// per `--write PATH=VALUE` (hex of the text), then journal lines (`JournalEntry.line`).
public struct SavedSession: Sendable, Equatable {
    public var options: [String] = []
    public var setupWrites: [String] = []
    public var entries: [JournalEntry] = []
    /// The file line of each entry (1-based), for errors.
    public var entryLines: [Int] = []
    /// The line of the first `option` (1-based), for errors about the options.
    public var optionsLine = 2

    public init(options: [String], setupWrites: [String], entries: [JournalEntry]) {
        self.options = options; self.setupWrites = setupWrites; self.entries = entries
    }

    public static let header = "memhp-state 2"

    /// The file's bytes.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 * (entries.count + options.count + 2))
        out += Self.header.utf8; out.append(0x0A)
        for o in options { out += "option ".utf8; out += o.utf8; out.append(0x0A) }
        for w in setupWrites { out += "setup ".utf8; appendHex(Array(w.utf8), to: &out); out.append(0x0A) }
        for e in entries { out += e.line; out.append(0x0A) }
        return out
    }

    /// Parses a file's bytes; errors name `file:LINE`.
    public init(parsing bytes: [UInt8], file: String) throws {
        var lineNo = 0
        var sawHeader = false
        var start = 0
        func fail(_ message: String) -> SessionFileError {
            SessionFileError(file: file, line: lineNo, message: message)
        }
        while start < bytes.count {
            lineNo += 1
            guard let nl = bytes[start...].firstIndex(of: 0x0A) else {
                throw fail("the last line has no newline: the file was cut short")
            }
            let line = bytes[start..<nl]
            start = nl + 1
            if !sawHeader {
                let text = String(decoding: line, as: UTF8.self)
                if text == "memhp-state 1" {
                    throw fail(
                        "a version 1 state (accepted writes only) cannot be reloaded exactly; start a new state file")
                }
                guard text == Self.header else { throw fail("expected `\(Self.header)`") }
                sawHeader = true
                continue
            }
            if line.starts(with: "option ".utf8) {
                if options.isEmpty { optionsLine = lineNo }
                guard entries.isEmpty else { throw fail("an option after the journal began") }
                options.append(String(decoding: line.dropFirst(7), as: UTF8.self))
            } else if line.starts(with: "setup ".utf8) {
                guard let text = hexDecode(line.dropFirst(6)) else { throw fail("bad hex in a setup line") }
                setupWrites.append(String(decoding: text, as: UTF8.self))
            } else if let e = JournalEntry(line: line) {
                entries.append(e)
                entryLines.append(lineNo)
            } else {
                throw fail("expected `option ARG`, `setup HEX` or a journal entry (`write PATH HEX ret=N ...`)")
            }
        }
        if !sawHeader { lineNo = 1; throw fail("empty file: expected `\(Self.header)`") }
    }
}

/// A state file that cannot be loaded: where and why.
public struct SessionFileError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int
    public var message: String
    public var description: String { "\(file):\(line): \(message)" }
}
