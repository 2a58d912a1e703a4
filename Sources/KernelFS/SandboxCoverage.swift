import MemoryModel

extension KernelFS {
    /// What `memhp sandbox` binds over the host so that every path the model serves shows the
    /// model, derived from the tree itself (a new area is covered without a list to update):
    /// a sysfs or debugfs area's mount point as one directory (the model's directory replaces
    /// the host's whole), and under /proc, where the host's other files must stay, every file
    /// the model serves on its own (/proc/meminfo, /proc/iomem, each /proc/sys/vm file ...).
    /// Outermost first; nested points are left out (their parent's bind covers them).
    public func sandboxBinds() throws -> [String] {
        var points: [String] = []
        var seen: Set<String> = []
        for area in KernelFS.areas {
            let mp = "/" + area.mountPoint.joined(separator: "/")
            guard (try? lookup(mp)) != nil else { continue }  // not served on this machine
            if area.mountPoint.first == "proc" {
                for (path, node) in try walk(mp) {
                    if case .directory = node { continue }
                    if seen.insert(path).inserted { points.append(path) }
                }
            } else if seen.insert(mp).inserted {
                points.append(mp)
            }
        }
        // Drop any point inside another one.
        let dirs = points.filter { !$0.hasPrefix("/proc/") }
        return points.filter { p in !dirs.contains { d in d != p && p.hasPrefix(d + "/") } }.sorted()
    }
}
