import ArgumentParser
import Foundation
import MemhpTestSupport
import XCTest

@testable import memhp

#if canImport(Glibc)
import Glibc
#endif

/// `memhp ARGS` run inside the test process through `Main.run` (what `main` calls, minus the
/// exit), stdout and stderr captured through files: the same parsing, the same error-to-status
/// mapping, without a process per case. A trap kills the test run; the case's stderr is then
/// in `MalformedInput.crashLog` with the mutant beside it.
enum InProcessCLI {
    struct Result {
        var status: Int32
        var out: String
        var err: String
    }

    static func run(_ args: [String], in dir: String) -> Result {
        capture(in: dir) { Main.run(args) }
    }

    /// A command line parsed once (ArgumentParser's parse dominates a debug build's time),
    /// then run as often as wanted: each run reads its files afresh. Only for commands whose
    /// files are read when they run, not while parsing (`--snapshot` on a machine command is
    /// checked while parsing: give those to `run`).
    struct Parsed {
        var command: ParsableCommand
        var args: [String]
        init(_ args: [String]) throws {
            self.args = args
            command = try MemHP.parseAsRoot(args)
        }
        func run(in dir: String) -> Result { InProcessCLI.capture(in: dir) { Main.execute(command, arguments: args) } }
    }

    static func capture(in dir: String, _ body: () -> Int32) -> Result {
        let outPath = dir + "/cli.stdout", errPath = dir + "/cli.stderr"
        fflush(nil)
        let savedOut = dup(1), savedErr = dup(2)
        let o = open(outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let e = open(errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        dup2(o, 1); dup2(e, 2); close(o); close(e)
        let status = body()
        fflush(nil)
        dup2(savedOut, 1); dup2(savedErr, 2); close(savedOut); close(savedErr)
        func text(_ p: String) -> String {
            String(decoding: FileManager.default.contents(atPath: p) ?? Data(), as: UTF8.self)
        }
        return Result(status: status, out: text(outPath), err: text(errPath))
    }
}

/// What every malformed input must get: success, or status 2 with a message that names the
/// file (FILE:LINE for a file with lines, when `line` is set), or status 1 when `refused`
/// says the model or kernel refused an operation; never a trap (which would end the run).
struct MalformedInput {
    /// The file the CLI was given, as its messages must name it.
    var path: String
    /// Whether content errors must carry a line number (`PATH:N:`).
    var line = true
    /// Status 1 is right for this message (the model refused an operation).
    var refused: (String) -> Bool = { _ in false }

    func check(
        _ r: InProcessCLI.Result, _ what: String, file: StaticString = #filePath, line l: UInt = #line
    ) {
        XCTAssertFalse(r.err.contains("Fatal error"), "\(what): \(r.err)", file: file, line: l)
        switch r.status {
        case 0: break
        case 1:
            XCTAssertTrue(refused(r.err), "\(what): status 1 for a malformed file: \(r.err)", file: file, line: l)
        case 2:
            XCTAssertTrue(
                r.err.contains(path), "\(what): the message does not name \(path): \(r.err)", file: file, line: l)
            if line {
                XCTAssertTrue(
                    r.err.range(
                        of: NSRegularExpression.escapedPattern(for: path) + ":[0-9]+: ", options: .regularExpression)
                        != nil, "\(what): no \(path):LINE: in \(r.err)", file: file, line: l)
            }
        default:
            XCTFail("\(what): status \(r.status): \(r.err)", file: file, line: l)
        }
    }
}
