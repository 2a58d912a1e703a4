import MemoryModel

/// The runner's own pages that memhp-guest.c faults in the first time it lists a directory:
/// each is an anonymous page fault (`do_anonymous_page`: an order-0 GFP_HIGHUSER_MOVABLE page
/// under the default policy) that happens once per run, at whichever step comes first. A
/// prefaulted runner has them before its first step.
extension ModelRunner {
    /// memhp-guest's first `opendir` (`list_blocks`, `block_node`, `hsizes`): the DIR's heap
    /// chunk, `GuestProgram.opendirHeapPages`.
    func guestOpendir() {
        guard !openedDirOnce else { return }
        openedDirOnce = true
        guestFault(GuestProgram.opendirHeapPages, owner: GuestProgram.processName + ":heap")
    }

    /// memhp-guest's `list_blocks` (`dump blocks`, `settle`): `opendir`, then the readdir
    /// loop writes the static `blocks` array, whose first page (`GuestProgram.blockListPages`)
    /// the first listing faults in.
    func guestListBlocks() {
        guestOpendir()
        guard !listedBlocksOnce else { return }
        listedBlocksOnce = true
        guestFault(GuestProgram.blockListPages, owner: GuestProgram.processName + ":blocks")
    }

    /// Fault `pages` anonymous pages into the owner `name` (created on first use). When the
    /// OOM killer kills the guest here, the log keeps what the guest printed before.
    func guestFault(_ pages: Int, owner name: String) {
        guard let owner = machine.ownerID(named: name) ?? (try? machine.createOwner(name: name, kind: .anon)) else {
            return
        }
        let kills = machine.vmstat.oomKill, mark = out.count
        machine.allocate(owner: owner, blocks: pages)
        if machine.vmstat.oomKill != kills { killMark = killMark ?? mark }
    }
}
