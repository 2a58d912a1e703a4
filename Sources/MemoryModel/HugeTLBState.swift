/// HugeTLB's state: hstates with their pools and counters (mm/hugetlb.c globals).
public struct HugeTLBState: Sendable {
    public init() {}
}
