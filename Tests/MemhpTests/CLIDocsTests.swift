import ArgumentParser
import Foundation
import MemhpTestSupport
import XCTest

@testable import memhp

/// `--json` keys as docs/json.md documents them, the committed man page against the command
/// definitions, and the completion scripts.
final class CLIDocsTests: XCTestCase {
    func object(_ args: [String]) throws -> [String: Any] {
        let r = try MemhpBinary.run(args)
        XCTAssertEqual(r.status, 0, r.err)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: r.outBytes) as? [String: Any])
    }

    /// The keys of `boot --json`, each listed in docs/json.md.
    func testBootJSON() throws {
        let o = try object(["boot", "--json"])
        XCTAssertEqual(Set(o.keys), ["format", "machine", "dmesg", "files", "memory_blocks", "errors"])
        XCTAssertEqual(o["format"] as? Int, 1)
        let machine = try XCTUnwrap(o["machine"] as? [String: Any])
        XCTAssertEqual(
            Set(machine.keys),
            [
                "mem_bytes", "maxmem_bytes", "slots", "node_bytes", "cmdline", "gbpages", "seed", "dimms",
                "memory_block_bytes"
            ])
        XCTAssertEqual(machine["mem_bytes"] as? Int, 1 << 30)
        XCTAssertEqual(machine["maxmem_bytes"] as? Int, 4 << 30)
        XCTAssertEqual(machine["memory_block_bytes"] as? Int, 128 << 20)
        let files = try XCTUnwrap(o["files"] as? [String: String])
        XCTAssertEqual(Set(files.keys), ["/proc/iomem", "/proc/meminfo", "/proc/zoneinfo", "/proc/buddyinfo"])
        XCTAssertTrue(files["/proc/iomem"]?.contains("00100000-3ffdffff : System RAM\n") == true)
        let blocks = try XCTUnwrap(o["memory_blocks"] as? [[String: Any]])
        XCTAssertEqual(blocks.count, 8)
        XCTAssertEqual(blocks.first?["valid_zones"] as? String, "none")
        let text = try MemhpBinary.run(["boot", "--show", "dmesg"])
        XCTAssertEqual(
            (o["dmesg"] as? [String])?.joined(separator: "\n"),
            String(text.out.dropFirst("# dmesg (memory)\n".count).dropLast()))
        try assertDocumented(o, in: "boot")
    }

    /// `demo --json`: the saving is what the pool did not take (100 × 512 pages less the pages
    /// used), and seed case 3 as the text tells it. (One run: the demo takes a minute in a
    /// debug build; the text's figures come from the same `DemoResult`.)
    func testDemoJSON() throws {
        let o = try object(["demo", "--json"])
        XCTAssertEqual(Set(o.keys), ["format", "machine", "boot", "memory_blocks", "hvo_saving", "offline_risk"])
        let saving = try XCTUnwrap(o["hvo_saving"] as? [[String: Any]])
        XCTAssertEqual(saving.map { $0["hugetlb_optimize_vmemmap"] as? Int }, [0, 1])
        for s in saving {
            XCTAssertEqual((s["pages_saved"] as? Int).map { $0 + (s["pages_used"] as? Int ?? 0) }, 100 * 512)
        }
        XCTAssertEqual(saving[0]["pages_saved"] as? Int, 0)
        // HVO frees 7 of the 8 vmemmap pages of each 2 MiB page (6.1): at most 700.
        let saved = try XCTUnwrap(saving[1]["pages_saved"] as? Int)
        XCTAssertTrue((600...700).contains(saved), "\(saved)")
        let risk = try XCTUnwrap(o["offline_risk"] as? [[String: Any]])
        XCTAssertEqual(risk.map { $0["hugetlb_optimize_vmemmap"] as? Int }, [1, 0])
        XCTAssertEqual(risk.map { $0["nr_hugepages_before"] as? Int }, [128, 128])
        XCTAssertEqual(risk.map { $0["block"] as? Int }, [33, 33])
        XCTAssertEqual(risk[0]["offline_errno"] as? String, "ENOMEM", "seed case 3: HVO on, the offline fails")
        XCTAssertNil(risk[1]["offline_errno"], "HVO off: the offline succeeds")
        XCTAssertEqual(risk.map { $0["state_after"] as? String }, ["online", "offline"])
        try assertDocumented(o, in: "demo")
    }

    /// Every key the JSON has appears as `key` in docs/json.md's section for the command.
    func assertDocumented(_ o: [String: Any], in command: String, file: StaticString = #filePath, line: UInt = #line)
        throws
    {
        let doc = try String(
            contentsOf: MemhpBinary.packageRoot.appendingPathComponent("docs/json.md"), encoding: .utf8)
        let section = try XCTUnwrap(
            doc.components(separatedBy: "\n## ").first { $0.hasPrefix("memhp \(command)") },
            "no `## memhp \(command)` in docs/json.md")
        func keys(_ v: Any) -> Set<String> {
            if let d = v as? [String: Any] { return d.reduce(into: Set(d.keys)) { $0.formUnion(keys($1.value)) } }
            if let a = v as? [Any] { return a.reduce(into: Set()) { $0.formUnion(keys($1)) } }
            return []
        }
        // Keys of `files` and `errors` are paths, not names.
        var all = keys(o.filter { $0.key != "files" && $0.key != "errors" })
        all.formUnion(["files", "errors"].filter { o[$0] != nil })
        let common = doc.components(separatedBy: "\n## ").first { $0.hasPrefix("Common") } ?? ""
        for k in all.sorted() {
            XCTAssertTrue(
                section.contains("`\(k)`") || common.contains("`\(k)`"),
                "`\(k)` of memhp \(command) --json is not in docs/json.md", file: file, line: line)
        }
    }

    /// docs/memhp.1 is swift-argument-parser's generate-manual output for today's commands:
    /// every command, option and help text the binary describes (`--experimental-dump-help`)
    /// is in it. Regenerate with scripts/generate-manpage.
    func testManPageIsUpToDate() throws {
        let man = try String(
            contentsOf: MemhpBinary.packageRoot.appendingPathComponent("docs/memhp.1"), encoding: .utf8)
        let dump = try MemhpBinary.run(["--experimental-dump-help"])
        XCTAssertEqual(dump.status, 0, dump.err)
        let info = try XCTUnwrap(JSONSerialization.jsonObject(with: dump.outBytes) as? [String: Any])
        var checked = 0
        // generate-manual drops what mdoc cannot say in ASCII (the em dashes).
        func ascii(_ s: String) -> String { String(String.UnicodeScalarView(s.unicodeScalars.filter(\.isASCII))) }
        func check(_ command: [String: Any], root: Bool) {
            let name = command["commandName"] as? String ?? "?"
            if !root { XCTAssertTrue(man.contains(".It Em \(name)\n"), "command \(name) missing from docs/memhp.1") }
            for key in ["abstract", "discussion"] {
                if let text = (command[key] as? String).map(ascii), !text.isEmpty {
                    XCTAssertTrue(man.contains(text), "\(name)'s \(key) differs in docs/memhp.1: \(text)")
                    checked += 1
                }
            }
            for arg in command["arguments"] as? [[String: Any]] ?? [] where (arg["shouldDisplay"] as? Bool) != false {
                if let abstract = (arg["abstract"] as? String).map(ascii), !abstract.isEmpty {
                    XCTAssertTrue(man.contains(abstract), "\(name): option help missing from docs/memhp.1: \(abstract)")
                    checked += 1
                }
                if let long = (arg["names"] as? [[String: Any]])?.first(where: { $0["kind"] as? String == "long" })?[
                    "name"] as? String
                {
                    XCTAssertTrue(man.contains(" -\(long)"), "\(name): --\(long) missing from docs/memhp.1")
                }
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] { check(sub, root: false) }
        }
        check(try XCTUnwrap(info["command"] as? [String: Any]), root: true)
        XCTAssertGreaterThan(checked, 60, "the dump should describe every command and option")
    }

    /// `memhp --generate-completion-script SHELL` (README documents it) for the three shells.
    func testCompletionScripts() throws {
        let expectations = [
            "bash": "\ncomplete -o filenames -F _memhp memhp\n", "zsh": "#compdef memhp", "fish": "complete -c 'memhp'"
        ]
        for (shell, marker) in expectations {
            let r = try MemhpBinary.run(["--generate-completion-script", shell])
            XCTAssertEqual(r.status, 0, r.err)
            XCTAssertTrue(r.out.contains(marker), "\(shell): no \(marker) in\n\(r.out.prefix(400))")
            for sub in ["boot", "conformance", "sandbox"] { XCTAssertTrue(r.out.contains(sub), "\(shell): no \(sub)") }
        }
        let readme = try String(
            contentsOf: MemhpBinary.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        XCTAssertTrue(readme.contains("memhp --generate-completion-script bash"))
    }

    /// The commands parse in process too (what the binary tests drive end to end).
    func testParseAsRoot() throws {
        let boot = try XCTUnwrap(try MemHP.parseAsRoot(["boot", "--mem", "1.5G", "--dimm", "0.5G@0"]) as? BootCommand)
        let c = try boot.machine.config()
        XCTAssertEqual(c.memBytes, 3 << 29)
        XCTAssertEqual(c.dimms.map(\.sizeBytes), [512 << 20])
        XCTAssertThrowsError(try MemHP.parseAsRoot(["boot", "--mem", "-1"])) { e in
            XCTAssertEqual(MemHP.exitCode(for: e), .validationFailure)
            XCTAssertTrue(MemHP.message(for: e).contains("negative"), MemHP.message(for: e))
        }
        XCTAssertEqual(try MemHP.parseAsRoot(["boot", "--show", "dmesg"]).self is BootCommand, true)
    }
}
