/// Where the calling task leaves the kernel, and the kernel's own threads get the CPU.
///
/// Every operation a caller performs on the machine (a public method that can free or
/// allocate pages, or KernelFS's machine lock around a file's read or write) is one system
/// call of the calling task. A kernel thread that is runnable meanwhile (the ACPI hotplug
/// worker spinning in offline_pages(), retrying with cond_resched()) runs at the latest when
/// that task returns to user space (`exit_to_user_mode_loop` → `schedule()` on a one-CPU
/// guest). The model runs such workers there, on the outermost return, so no caller has to
/// remember them, and never in the middle of an operation whose lists and counters they
/// would change.
extension Machine {
    /// Runs `body` as one operation of the calling task: on the outermost return the
    /// kernel's workers that can make progress run (`exitToUserMode`).
    public func syscall<T>(_ body: () throws -> T) rethrows -> T {
        enterKernel()
        defer { exitToUserMode() }
        return try body()
    }

    /// The task enters the kernel (a nested operation only counts).
    @inline(__always) func enterKernel() { syscallDepth += 1 }

    /// The task leaves an operation; leaving the outermost one lets the kernel's threads run
    /// first, still inside it, so that what they call does not run them again.
    func exitToUserMode() {
        if syscallDepth == 1 { kernelThreadsRun() }
        syscallDepth -= 1
    }

    /// The kernel threads that may have something to do by now: the ACPI hotplug worker
    /// retries the offline of a pending eject (ACPIMemory.swift).
    func kernelThreadsRun() {
        if drivers.pendingEject != nil { acpiHotplugWorkerRetries() }
    }
}
