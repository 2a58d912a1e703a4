/// One line of an observation log: `kind key=value key2="quoted value" ...`.
///
/// Both runners (the model and the real kernel under QEMU) write the same kinds, so a log diff
/// compares them line by line. Whether a value is quoted is part of the format (the captures
/// quote `valid_zones="DMA32"` even without a space, and leave `path=/sys/...` bare), so each
/// field remembers it and parsing a line then rendering it gives the same text back.
///
/// A few kinds carry free text instead of fields (`dmesg [    0.050812] Zone ranges:` in the
/// captures); `text` holds it.
public struct Observation: Sendable, Equatable, CustomStringConvertible {
    public struct Field: Sendable, Equatable {
        public var key: String
        public var value: String
        public var quoted: Bool
        public init(_ key: String, _ value: String, quoted: Bool = false) {
            self.key = key; self.value = value; self.quoted = quoted
        }
    }

    public var kind: String
    public var fields: [Field]
    /// Free text after the kind (only when `fields` is empty).
    public var text: String?

    public init(_ kind: String, _ fields: [Field] = [], text: String? = nil) {
        self.kind = kind; self.fields = fields; self.text = text
    }

    /// The value of the first field named `key`.
    public subscript(key: String) -> String? {
        get { fields.first(where: { $0.key == key })?.value }
        set {
            if let i = fields.firstIndex(where: { $0.key == key }) {
                if let v = newValue { fields[i].value = v } else { fields.remove(at: i) }
            } else if let v = newValue {
                fields.append(Field(key, v))
            }
        }
    }

    /// Appends a bare field (`key=value`).
    @discardableResult
    public mutating func add(_ key: String, _ value: CustomStringConvertible) -> Observation {
        fields.append(Field(key, value.description)); return self
    }
    /// Appends a quoted field (`key="value"`).
    @discardableResult
    public mutating func addQuoted(_ key: String, _ value: String) -> Observation {
        fields.append(Field(key, value, quoted: true)); return self
    }

    /// The observation with only the fields whose keys are in `keys` (for structural diffs).
    public func keeping(_ keys: Set<String>) -> Observation {
        Observation(kind, fields.filter { keys.contains($0.key) }, text: text)
    }
    /// The observation without the fields whose keys are in `keys` (e.g. timing).
    public func dropping(_ keys: Set<String>) -> Observation {
        Observation(kind, fields.filter { !keys.contains($0.key) }, text: text)
    }

    // MARK: rendering

    public var line: String {
        var s = kind
        if let text, fields.isEmpty { return text.isEmpty ? s : s + " " + text }
        for f in fields {
            s += " " + f.key + "="
            if f.quoted || Self.needsQuotes(f.value) { s += "\"" + Self.escape(f.value) + "\"" } else { s += f.value }
        }
        return s
    }
    public var description: String { line }

    /// A bare value must survive re-parsing unchanged: no space, quote, backslash or control character, not empty.
    public static func needsQuotes(_ v: String) -> Bool {
        if v.isEmpty { return true }
        return v.unicodeScalars.contains {
            $0 == " " || $0 == "\"" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7f
        }
    }

    /// Backslash escapes inside a quoted value: `\"`, `\\`, `\n`, `\t`, `\r`, other control characters as `\xHH`.
    public static func escape(_ v: String) -> String {
        var out = ""
        for u in v.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 || u.value == 0x7f {
                    let h = String(u.value, radix: 16)
                    out += "\\x" + (h.count < 2 ? "0" + h : h)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }

    // MARK: parsing

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Parses one log line. Returns nil for blank lines and `#` comments.
    /// A line whose tail is not a sequence of `key=value` fields becomes a text observation.
    public static func parse(_ line: String) throws -> Observation? {
        let trimmed = line.trimmingTrailingNewline()
        if trimmed.allSatisfy({ $0 == " " || $0 == "\t" }) { return nil }
        if trimmed.hasPrefix("#") { return nil }
        let scalars = Array(trimmed.unicodeScalars)
        var i = 0
        var kind = ""
        while i < scalars.count, scalars[i] != " " { kind.unicodeScalars.append(scalars[i]); i += 1 }
        let restStart = i
        var fields: [Field] = []
        if let parsed = parseFields(scalars, from: i) {
            fields = parsed
        } else {
            // Free text: keep it verbatim (after the single separating space).
            var text = String(String.UnicodeScalarView(scalars[restStart...]))
            if text.hasPrefix(" ") { text.removeFirst() }
            return Observation(kind, [], text: text)
        }
        if kind.isEmpty { throw ParseError(message: "line has no kind") }
        return Observation(kind, fields)
    }

    /// Parses a log: every non-comment line; throws with the 1-based line number on the first bad one.
    public static func parseLog(_ text: String) throws -> [Observation] {
        var out: [Observation] = []
        for (n, l) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            do {
                if let o = try parse(String(l)) { out.append(o) }
            } catch let e as ParseError {
                throw ParseError(message: "line \(n + 1): \(e.message)")
            }
        }
        return out
    }

    private static func parseFields(_ s: [Unicode.Scalar], from start: Int) -> [Field]? {
        var i = start
        var fields: [Field] = []
        while true {
            while i < s.count, s[i] == " " { i += 1 }
            if i >= s.count { return fields }
            var key = ""
            while i < s.count, s[i] != "=", s[i] != " ", s[i] != "\"" { key.unicodeScalars.append(s[i]); i += 1 }
            guard i < s.count, s[i] == "=", !key.isEmpty else { return nil }
            i += 1
            if i < s.count, s[i] == "\"" {
                i += 1
                var v = ""
                var closed = false
                while i < s.count {
                    let c = s[i]
                    if c == "\"" { closed = true; i += 1; break }
                    if c == "\\", i + 1 < s.count {
                        let n = s[i + 1]
                        switch n {
                        case "n": v += "\n"; i += 2
                        case "t": v += "\t"; i += 2
                        case "r": v += "\r"; i += 2
                        case "x" where i + 3 < s.count:
                            let hex = String(String.UnicodeScalarView(s[(i + 2)...(i + 3)]))
                            guard let b = UInt32(hex, radix: 16), let u = Unicode.Scalar(b) else { return nil }
                            v.unicodeScalars.append(u); i += 4
                        default: v.unicodeScalars.append(n); i += 2
                        }
                        continue
                    }
                    v.unicodeScalars.append(c); i += 1
                }
                guard closed, i >= s.count || s[i] == " " else { return nil }
                fields.append(Field(key, v, quoted: true))
            } else {
                var v = ""
                while i < s.count, s[i] != " " { v.unicodeScalars.append(s[i]); i += 1 }
                if v.unicodeScalars.contains("\"") { return nil }
                fields.append(Field(key, v))
            }
        }
    }
}

extension Observation {
    /// Convenience: `Observation("write", ["path": p], quoted: ["value": v])` keeps argument order.
    public init(_ kind: String, _ pairs: KeyValuePairs<String, String>, quotedKeys: Set<String> = []) {
        self.init(kind, pairs.map { Field($0.key, $0.value, quoted: quotedKeys.contains($0.key)) })
    }
}

extension String {
    fileprivate func trimmingTrailingNewline() -> String {
        var s = self
        while s.hasSuffix("\n") || s.hasSuffix("\r") { s.removeLast() }
        return s
    }
}
