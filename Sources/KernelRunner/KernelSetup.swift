import Foundation

/// The unpacked Debian kernel scripts/kernel-setup.sh leaves in the cache
/// (`/var/cache/memhp/kernel-<abi>/{vmlinuz,config,modules/,ko/,VERSION}`).
public struct KernelInstall {
    public var dir: String
    public var package: String
    public var abi: String
    /// The Debian package version, e.g. `6.1.192-2`: what fixtures record.
    public var debVersion: String

    public static let defaultCache = ProcessInfo.processInfo.environment["MEMHP_CACHE"] ?? "/var/cache/memhp"

    public var vmlinuz: String { dir + "/vmlinuz" }
    /// The same kernel uncompressed (the ELF inside vmlinuz, which Debian builds with
    /// CONFIG_PVH), extracted by scripts/kernel-setup.sh. QEMU's `x86_load_linux` boots it through
    /// its PVH entry (`load_elfboot`, option ROM pvh.bin): the same SeaBIOS e820, the initrd at
    /// the same address (`initrd_max` = below-4G RAM − ACPI data, as for the bzImage), the same
    /// kernel at 16 MiB, but no XZ decompression of 8 MiB under TCG, which was most of a boot.
    public var vmlinuxPVH: String { dir + "/vmlinux-pvh" }
    /// The image `-kernel` gets: the PVH ELF when it was extracted and `pvh` is asked for.
    public func bootImage(pvh: Bool) -> String {
        pvh && FileManager.default.fileExists(atPath: vmlinuxPVH) ? vmlinuxPVH : vmlinuz
    }

    /// Reads `dir/VERSION`.
    public init(dir: String) throws {
        guard let text = try? String(contentsOfFile: dir + "/VERSION", encoding: .utf8) else {
            throw HarnessError("no kernel in \(dir) (run scripts/kernel-setup.sh)")
        }
        var kv: [String: String] = [:]
        for l in text.split(separator: "\n") {
            if let eq = l.firstIndex(of: "=") { kv[String(l[..<eq])] = String(l[l.index(after: eq)...]) }
        }
        self.dir = dir
        package = kv["package"] ?? "?"; abi = kv["abi"] ?? "?"; debVersion = kv["deb_version"] ?? "?"
    }

    /// The newest kernel in the cache (by Debian version), or nil.
    public static func newestCached(cache: String = defaultCache) -> KernelInstall? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []
        let found = names.filter { $0.hasPrefix("kernel-") }.compactMap { try? KernelInstall(dir: cache + "/" + $0) }
        return found.max { debVersionLess($0.debVersion, $1.debVersion) }
    }

    /// What `linux-image-amd64` depends on now, from the local apt lists: (package, version).
    public static func servedByDebian() -> (package: String, version: String)? {
        guard let deps = run("/usr/bin/apt-cache", ["depends", "linux-image-amd64"]) else { return nil }
        var pkg: String?
        for l in deps.split(separator: "\n") {
            let t = l.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("Depends: linux-image-") { pkg = String(t.dropFirst("Depends: ".count)); break }
        }
        guard let pkg, let pol = run("/usr/bin/apt-cache", ["policy", pkg]) else { return nil }
        for l in pol.split(separator: "\n") {
            let t = l.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("Candidate: ") { return (pkg, String(t.dropFirst("Candidate: ".count))) }
        }
        return nil
    }

    /// dpkg's version order (`dpkg --compare-versions a lt b`).
    public static func debVersionLess(_ a: String, _ b: String) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/dpkg")
        p.arguments = ["--compare-versions", a, "lt", b]
        guard (try? p.run()) != nil else { return a < b }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    static func run(_ exe: String, _ args: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        let d = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: d, as: UTF8.self)
    }

    /// Notes to print when Debian serves a newer 6.1 build than this cache or the fixtures.
    /// `fixtureVersions` are the `deb_version`s fixtures record.
    public func freshnessNotes(fixtureVersions: Set<String>) -> [String] {
        var notes: [String] = []
        if let served = Self.servedByDebian() {
            if Self.debVersionLess(debVersion, served.version) {
                notes.append(
                    "Debian now serves \(served.package) \(served.version), newer than the cached \(package) \(debVersion): run scripts/kernel-setup.sh to fetch it"
                )
            }
            for v in fixtureVersions.sorted() where Self.debVersionLess(v, served.version) {
                notes.append(
                    "fixtures were recorded with kernel \(v); Debian now serves \(served.package) \(served.version): re-record them"
                )
            }
        }
        return notes
    }

    /// The Debian kernel versions recorded in fixture headers (`# kernel: ABI PACKAGE VERSION`)
    /// of the `*.kernel.txt` files in `dir`.
    public static func fixtureVersions(in dir: String) -> Set<String> {
        var out: Set<String> = []
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        for f in files where f.hasSuffix(".kernel.txt") {
            guard let h = FileHandle(forReadingAtPath: dir + "/" + f) else { continue }
            let head = String(decoding: h.readData(ofLength: 4096), as: UTF8.self)
            try? h.close()
            for l in head.split(separator: "\n") where l.hasPrefix("# kernel: ") {
                if let v = l.split(separator: " ").last { out.insert(String(v)) }
            }
        }
        return out
    }

    // MARK: modules

    /// `NAME` and its dependencies (from each .ko's `.modinfo` `depends=`), dependencies first,
    /// as plain .ko paths (decompressing .ko.xz into `dir/ko/` when needed).
    public func moduleFiles(_ name: String) throws -> [(name: String, file: String)] {
        var out: [(String, String)] = []
        var seen: Set<String> = []
        func norm(_ n: String) -> String { n.replacingOccurrences(of: "-", with: "_") }
        func visit(_ n: String) throws {
            guard !seen.contains(norm(n)) else { return }
            seen.insert(norm(n))
            let ko = try locate(n)
            let data = try Data(contentsOf: URL(fileURLWithPath: ko))
            if let r = data.range(of: Data("depends=".utf8)) {
                let end = data[r.upperBound...].firstIndex(of: 0) ?? data.endIndex
                let deps = String(decoding: data[r.upperBound..<end], as: UTF8.self)
                for d in deps.split(separator: ",") where !d.isEmpty { try visit(String(d)) }
            }
            out.append((norm(n), ko))
        }
        try visit(name)
        return out
    }

    private func locate(_ name: String) throws -> String {
        let fm = FileManager.default
        let variants = Set([
            name, name.replacingOccurrences(of: "-", with: "_"), name.replacingOccurrences(of: "_", with: "-")
        ])
        for v in variants where fm.fileExists(atPath: "\(dir)/ko/\(v).ko") { return "\(dir)/ko/\(v).ko" }
        guard let e = fm.enumerator(atPath: dir + "/modules/kernel") else { throw HarnessError("no modules in \(dir)") }
        while let rel = e.nextObject() as? String {
            let base = (rel as NSString).lastPathComponent
            for v in variants {
                if base == "\(v).ko" { return "\(dir)/modules/kernel/\(rel)" }
                if base == "\(v).ko.xz" {
                    try? fm.createDirectory(atPath: dir + "/ko", withIntermediateDirectories: true)
                    let dst = "\(dir)/ko/\(v).ko"
                    let p = Process()
                    p.executableURL = URL(fileURLWithPath: "/usr/bin/xz")
                    p.arguments = ["-dkc", "\(dir)/modules/kernel/\(rel)"]
                    _ = fm.createFile(atPath: dst, contents: nil)
                    guard let fh = FileHandle(forWritingAtPath: dst) else { throw HarnessError("cannot write \(dst)") }
                    p.standardOutput = fh
                    try p.run()
                    p.waitUntilExit()
                    try? fh.close()
                    guard p.terminationStatus == 0 else { throw HarnessError("cannot decompress \(rel)") }
                    return dst
                }
            }
        }
        throw HarnessError("module \(name) is not in \(dir)/modules (built in, or not packaged)")
    }
}
