#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mutex with checked results: the pthread mutex lives at a stable heap address (never a
/// stored property passed as `&mutex`, which Swift may move), and every pthread call's
/// return code is checked, since a failing lock or unlock means the locking is broken.
public final class KernelLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let r = pthread_mutex_init(mutex, nil)
        precondition(r == 0, "pthread_mutex_init failed: \(r)")
    }

    deinit {
        let r = pthread_mutex_destroy(mutex)
        precondition(r == 0, "pthread_mutex_destroy failed: \(r) (a lock destroyed while held)")
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    public func lock() {
        let r = pthread_mutex_lock(mutex)
        precondition(r == 0, "pthread_mutex_lock failed: \(r)")
    }

    public func unlock() {
        let r = pthread_mutex_unlock(mutex)
        precondition(r == 0, "pthread_mutex_unlock failed: \(r)")
    }

    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
