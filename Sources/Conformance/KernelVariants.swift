import Foundation
import Scenario

/// Every output the real kernel gave for one scenario: the fixture `NAME.kernel.txt` and, where two
/// runs of the same scenario disagreed under the diff's own rules, the other runs as
/// `NAME.kernel.2.txt`, `NAME.kernel.3.txt`, ... — the kernel itself varies there (where a
/// kernel-memory filler stops, which free huge pages an offline dissolves first). The model
/// passes when it agrees with any one of them, never with a mix; the campaign keeps its seeds'
/// variants the same way (`Campaign.variantPaths`).
public enum KernelVariants {
    /// The variants' files of `STEM` in `dir`, the fixture first; empty without the fixture.
    public static func paths(dir: String, stem: String) -> [String] {
        let first = "\(dir)/\(stem).kernel.txt"
        guard FileManager.default.fileExists(atPath: first) else { return [] }
        var out = [first]
        var k = 2
        while FileManager.default.fileExists(atPath: "\(dir)/\(stem).kernel.\(k).txt") {
            out.append("\(dir)/\(stem).kernel.\(k).txt")
            k += 1
        }
        return out
    }

    /// The diff against the variant the model agrees with (the first, if several), else against
    /// the closest one: fewest structural differences (missing, extra, structural, range), then
    /// fewest differences of any kind. `ranges(i)` gives variant i's rules (its embedded
    /// `# range` lines plus the scenario's `.ranges` file). The report says which variant it is.
    public static func closest(
        scenario: String, kernels: [String], model: ObservationLog, ranges: (Int) throws -> [RangeRule]
    ) rethrows -> DiffReport {
        var best: (report: DiffReport, score: (Int, Int))?
        for (i, text) in kernels.enumerated() {
            var r = ObservationDiff.diff(
                scenario: scenario, kernel: ObservationLog.parse(text).log, model: model, ranges: try ranges(i))
            r.variant = i + 1
            r.variants = kernels.count
            if r.passed { return r }
            let structural = r.differences.filter { $0.kind != .counter }.count
            let score = (structural, r.differences.count)
            if best == nil || score < best!.score { best = (r, score) }
        }
        return best?.report ?? DiffReport(scenario: scenario)
    }
}
