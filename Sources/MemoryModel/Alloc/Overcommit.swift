/// Overcommit accounting's sysctls and CommitLimit (mm/util.c): `overcommit_memory`,
/// `overcommit_ratio` and `overcommit_kbytes` (each of the last two clears the other).
extension Machine {
    /// `overcommit_policy_handler` (0...2).
    public func setOvercommitMemory(_ v: Int) throws {
        guard (0...2).contains(v) else { throw KernelError(.invalidArgument) }
        vmSysctl.overcommitMemory = v
    }

    /// `overcommit_ratio_handler`: any int; clears overcommit_kbytes.
    public func setOvercommitRatio(_ v: Int) {
        vmSysctl.overcommitRatio = v
        vmSysctl.overcommitKbytes = 0
    }

    /// `overcommit_kbytes_handler`: clears overcommit_ratio.
    public func setOvercommitKbytes(_ v: UInt64) {
        vmSysctl.overcommitKbytes = v
        vmSysctl.overcommitRatio = 0
    }

    /// `vm_commit_limit` (CommitLimit, pages): no swap in the model.
    public func commitLimitPages() -> Int {
        if vmSysctl.overcommitKbytes != 0 {
            return Int(truncatingIfNeeded: vmSysctl.overcommitKbytes >> UInt64(Geometry.pageShift - 10))
        }
        let pages = UInt64(Swift.max(totalManagedPages - hugetlbTotalPages, 0))
        // `sysctl_overcommit_ratio` is an int promoted to unsigned long, as in C.
        let ratio = UInt64(bitPattern: Int64(vmSysctl.overcommitRatio))
        return Int(truncatingIfNeeded: (pages &* ratio) / 100)
    }
}
