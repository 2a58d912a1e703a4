import Scenario

/// A fixture's statement that a value varies on the real kernel itself: on observations
/// matching `selector` (and `step`, when given), `key` may take any value in `allowed`.
/// Written `range KIND [KEY=VALUE...] [step=N] : KEY=ALLOWED... [# reason]` in
/// `tests/conformance/NAME.ranges`, or as a `# range ...` comment in `NAME.kernel.txt`.
public struct RangeRule: Sendable, Equatable {
    public enum Allowed: Sendable, Equatable {
        /// `LO..HI` (inclusive).
        case numeric(Int, Int)
        /// `a|b|c`.
        case oneOf([String])
        /// `*`: not compared.
        case any

        public func accepts(_ v: String) -> Bool {
            switch self {
            case .any: return true
            case .oneOf(let vs): return vs.contains(v)
            case .numeric(let lo, let hi):
                guard let n = Int(v) else { return false }
                return n >= lo && n <= hi
            }
        }
        public var text: String {
            switch self {
            case .any: return "*"
            case .oneOf(let vs): return vs.joined(separator: "|")
            case .numeric(let lo, let hi): return "\(lo)..\(hi)"
            }
        }
    }

    public var kind: String
    public var selector: [Observation.Field]
    public var step: Int?
    public var constraints: [(key: String, allowed: Allowed)]
    public var reason: String
    public var line: Int

    public static func == (a: RangeRule, b: RangeRule) -> Bool {
        a.kind == b.kind && a.selector == b.selector && a.step == b.step && a.reason == b.reason && a.line == b.line
            && a.constraints.map(\.key) == b.constraints.map(\.key)
            && a.constraints.map(\.allowed) == b.constraints.map(\.allowed)
    }

    public func matches(_ o: Observation, step s: Int) -> Bool {
        guard o.kind == kind else { return false }
        if let step, step != s { return false }
        return selector.allSatisfy { o[$0.key] == $0.value }
    }

    public func allowed(for key: String) -> Allowed? { constraints.first(where: { $0.key == key })?.allowed }

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Parses `KIND [K=V...] [step=N] : K=ALLOWED... [# reason]` (without the leading `range`).
    public static func parse(_ body: String, line: Int) throws -> RangeRule {
        var text = body
        var reason = ""
        if let hash = Self.commentStart(text) {
            reason = String(text[text.index(after: hash)...]).trimmed()
            text = String(text[..<hash])
        }
        guard let colon = Self.separator(text) else {
            throw ParseError(
                line: line, message: "expected `range KIND [KEY=VALUE...] : KEY=LO..HI|a|b|*...`, found no `:`")
        }
        let head = String(text[..<colon]).trimmed(), tail = String(text[text.index(after: colon)...]).trimmed()
        let kind = String(head.prefix(while: { $0 != " " }))
        guard !kind.isEmpty else { throw ParseError(line: line, message: "expected an observation kind after `range`") }
        var rule = RangeRule(kind: kind, selector: [], step: nil, constraints: [], reason: reason, line: line)
        for tok in try words(String(head.dropFirst(kind.count)), line: line) {
            let (k, alts) = try field(tok, line: line)
            guard alts.count == 1 else {
                throw ParseError(line: line, message: "expected one value for `\(k)=` before `:`")
            }
            if k == "step" {
                guard let n = Int(alts[0].text) else {
                    throw ParseError(line: line, message: "expected `step=N`, got `step=\(alts[0].text)`")
                }
                rule.step = n
            } else {
                rule.selector.append(Observation.Field(k, alts[0].text))
            }
        }
        for tok in try words(tail, line: line) {
            let (k, alts) = try field(tok, line: line)
            if alts.count == 1, !alts[0].quoted, alts[0].text == "*" {
                rule.constraints.append((k, .any)); continue
            }
            if alts.count == 1, !alts[0].quoted {
                let parts = alts[0].text.split(separator: ".", omittingEmptySubsequences: false)
                if parts.count == 3, parts[1].isEmpty {
                    guard let lo = Int(parts[0]), let hi = Int(parts[2]), lo <= hi else {
                        throw ParseError(line: line, message: "expected `LO..HI` with LO <= HI, got `\(alts[0].text)`")
                    }
                    rule.constraints.append((k, .numeric(lo, hi))); continue
                }
            }
            rule.constraints.append((k, .oneOf(alts.map(\.text))))
        }
        guard !rule.constraints.isEmpty else {
            throw ParseError(line: line, message: "expected at least one KEY=ALLOWED after `:`")
        }
        return rule
    }

    /// Blank-separated words; blanks inside `"..."` do not separate.
    static func words(_ s: String, line: Int) throws -> [String] {
        var out: [String] = []
        var cur = ""
        var inQuote = false
        var escaped = false
        for c in s {
            if escaped { cur.append(c); escaped = false; continue }
            if c == "\\" && inQuote { cur.append(c); escaped = true; continue }
            if c == "\"" { inQuote.toggle() }
            if (c == " " || c == "\t") && !inQuote {
                if !cur.isEmpty { out.append(cur); cur = "" }
                continue
            }
            cur.append(c)
        }
        guard !inQuote else { throw ParseError(line: line, message: "unterminated \" quote") }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    /// `KEY=ALT|ALT...`; each alternative bare or `"quoted"` (with `\"` and `\\`).
    static func field(_ tok: String, line: Int) throws -> (String, [(text: String, quoted: Bool)]) {
        guard let eq = tok.firstIndex(of: "="), eq != tok.startIndex else {
            throw ParseError(line: line, message: "expected KEY=VALUE, got `\(tok)`")
        }
        let key = String(tok[..<eq])
        var alts: [(text: String, quoted: Bool)] = []
        var cur = "", quoted = false, inQuote = false, escaped = false
        for c in tok[tok.index(after: eq)...] {
            if escaped { cur.append(c); escaped = false; continue }
            if inQuote {
                if c == "\\" { escaped = true } else if c == "\"" { inQuote = false } else { cur.append(c) }
                continue
            }
            if c == "\"" { inQuote = true; quoted = true; continue }
            if c == "|" { alts.append((cur, quoted)); cur = ""; quoted = false; continue }
            cur.append(c)
        }
        alts.append((cur, quoted))
        return (key, alts)
    }
    /// The `:` between selector and constraints: outside quotes, preferably with blanks around it.
    static func separator(_ s: String) -> String.Index? {
        var inQuote = false
        var prev: Character = " "
        var first: String.Index?
        for i in s.indices {
            let c = s[i]
            if c == "\"" && prev != "\\" { inQuote.toggle() }
            if c == ":" && !inQuote {
                let next = s.index(after: i)
                if prev == " " && (next == s.endIndex || s[next] == " ") { return i }
                if first == nil { first = i }
            }
            prev = c
        }
        return first
    }

    /// A `#` outside quotes.
    static func commentStart(_ s: String) -> String.Index? {
        var inQuote = false
        var prev: Character = " "
        for i in s.indices {
            let c = s[i]
            if c == "\"" && prev != "\\" { inQuote.toggle() }
            if c == "#" && !inQuote { return i }
            prev = c
        }
        return nil
    }

    /// Every `range` rule of a `.ranges` file (`range ...` lines; `#` comments and blank lines skipped).
    public static func parseFile(_ text: String) throws -> [RangeRule] {
        var out: [RangeRule] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let l = String(raw).trimmed()
            if l.isEmpty || l.hasPrefix("#") { continue }
            guard l.hasPrefix("range ") else {
                throw ParseError(line: i + 1, message: "expected `range KIND ... : KEY=ALLOWED`, got `\(l)`")
            }
            out.append(try parse(String(l.dropFirst(6)), line: i + 1))
        }
        return out
    }

    /// The `# range ...` comments embedded in a fixture.
    public static func parseEmbedded(_ text: String) throws -> [RangeRule] {
        var out: [RangeRule] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where raw.hasPrefix("# range ") {
            out.append(try parse(String(raw.dropFirst(8)), line: i + 1))
        }
        return out
    }
}

extension String {
    /// Without leading and trailing blanks (spaces, tabs, carriage returns).
    func trimmed() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
