import MemoryModel
import SystemPackage

// glibc's `strerror` text and the Linux symbolic names for the errnos a kernel file can
// return, as table data. The model prints what busybox printed in the captures
// (`sh: write error: Invalid argument`), and the host's libc must not leak in: macOS words
// several of these differently and numbers most of them differently.

/// One row: the Errno as this platform spells it, the Linux x86_64 number, the kernel's
/// name for it and the message of glibc 2.36 (Debian 12, whose busybox produced the captures).
private struct ErrnoRow {
    let errno: Errno
    let linux: Int32
    let symbol: String
    let message: String
}

private let errnoRows: [ErrnoRow] = {
    var rows: [ErrnoRow] = [
        ErrnoRow(errno: .notPermitted, linux: 1, symbol: "EPERM", message: "Operation not permitted"),
        ErrnoRow(errno: .noSuchFileOrDirectory, linux: 2, symbol: "ENOENT", message: "No such file or directory"),
        ErrnoRow(errno: .noSuchProcess, linux: 3, symbol: "ESRCH", message: "No such process"),
        ErrnoRow(errno: .interrupted, linux: 4, symbol: "EINTR", message: "Interrupted system call"),
        ErrnoRow(errno: .ioError, linux: 5, symbol: "EIO", message: "Input/output error"),
        ErrnoRow(errno: .noSuchAddressOrDevice, linux: 6, symbol: "ENXIO", message: "No such device or address"),
        ErrnoRow(errno: .argListTooLong, linux: 7, symbol: "E2BIG", message: "Argument list too long"),
        ErrnoRow(errno: .execFormatError, linux: 8, symbol: "ENOEXEC", message: "Exec format error"),
        ErrnoRow(errno: .badFileDescriptor, linux: 9, symbol: "EBADF", message: "Bad file descriptor"),
        ErrnoRow(errno: .noChildProcess, linux: 10, symbol: "ECHILD", message: "No child processes"),
        ErrnoRow(
            errno: .resourceTemporarilyUnavailable, linux: 11, symbol: "EAGAIN",
            message: "Resource temporarily unavailable"),
        ErrnoRow(errno: .noMemory, linux: 12, symbol: "ENOMEM", message: "Cannot allocate memory"),
        ErrnoRow(errno: .permissionDenied, linux: 13, symbol: "EACCES", message: "Permission denied"),
        ErrnoRow(errno: .badAddress, linux: 14, symbol: "EFAULT", message: "Bad address"),
        ErrnoRow(errno: .notBlockDevice, linux: 15, symbol: "ENOTBLK", message: "Block device required"),
        ErrnoRow(errno: .resourceBusy, linux: 16, symbol: "EBUSY", message: "Device or resource busy"),
        ErrnoRow(errno: .fileExists, linux: 17, symbol: "EEXIST", message: "File exists"),
        ErrnoRow(errno: .improperLink, linux: 18, symbol: "EXDEV", message: "Invalid cross-device link"),
        ErrnoRow(errno: .operationNotSupportedByDevice, linux: 19, symbol: "ENODEV", message: "No such device"),
        ErrnoRow(errno: .notDirectory, linux: 20, symbol: "ENOTDIR", message: "Not a directory"),
        ErrnoRow(errno: .isDirectory, linux: 21, symbol: "EISDIR", message: "Is a directory"),
        ErrnoRow(errno: .invalidArgument, linux: 22, symbol: "EINVAL", message: "Invalid argument"),
        ErrnoRow(
            errno: .tooManyOpenFilesInSystem, linux: 23, symbol: "ENFILE", message: "Too many open files in system"),
        ErrnoRow(errno: .tooManyOpenFiles, linux: 24, symbol: "EMFILE", message: "Too many open files"),
        ErrnoRow(
            errno: .inappropriateIOCTLForDevice, linux: 25, symbol: "ENOTTY", message: "Inappropriate ioctl for device"),
        ErrnoRow(errno: .textFileBusy, linux: 26, symbol: "ETXTBSY", message: "Text file busy"),
        ErrnoRow(errno: .fileTooLarge, linux: 27, symbol: "EFBIG", message: "File too large"),
        ErrnoRow(errno: .noSpace, linux: 28, symbol: "ENOSPC", message: "No space left on device"),
        ErrnoRow(errno: .illegalSeek, linux: 29, symbol: "ESPIPE", message: "Illegal seek"),
        ErrnoRow(errno: .readOnlyFileSystem, linux: 30, symbol: "EROFS", message: "Read-only file system"),
        ErrnoRow(errno: .tooManyLinks, linux: 31, symbol: "EMLINK", message: "Too many links"),
        ErrnoRow(errno: .brokenPipe, linux: 32, symbol: "EPIPE", message: "Broken pipe"),
        ErrnoRow(errno: .outOfDomain, linux: 33, symbol: "EDOM", message: "Numerical argument out of domain"),
        ErrnoRow(errno: .outOfRange, linux: 34, symbol: "ERANGE", message: "Numerical result out of range"),
        ErrnoRow(errno: .deadlock, linux: 35, symbol: "EDEADLK", message: "Resource deadlock avoided"),
        ErrnoRow(errno: .fileNameTooLong, linux: 36, symbol: "ENAMETOOLONG", message: "File name too long"),
        ErrnoRow(errno: .noLocks, linux: 37, symbol: "ENOLCK", message: "No locks available"),
        ErrnoRow(errno: .noFunction, linux: 38, symbol: "ENOSYS", message: "Function not implemented"),
        ErrnoRow(errno: .directoryNotEmpty, linux: 39, symbol: "ENOTEMPTY", message: "Directory not empty"),
        ErrnoRow(
            errno: .tooManySymbolicLinkLevels, linux: 40, symbol: "ELOOP", message: "Too many levels of symbolic links"),
        ErrnoRow(errno: .noData, linux: 61, symbol: "ENODATA", message: "No data available"),
        ErrnoRow(errno: .timeout, linux: 62, symbol: "ETIME", message: "Timer expired"),
        ErrnoRow(errno: .protocolError, linux: 71, symbol: "EPROTO", message: "Protocol error"),
        ErrnoRow(errno: .badMessage, linux: 74, symbol: "EBADMSG", message: "Bad message"),
        ErrnoRow(errno: .overflow, linux: 75, symbol: "EOVERFLOW", message: "Value too large for defined data type"),
        ErrnoRow(
            errno: .illegalByteSequence, linux: 84, symbol: "EILSEQ",
            message: "Invalid or incomplete multibyte or wide character"),
        // Linux has one number for EOPNOTSUPP and ENOTSUP; the kernel returns EOPNOTSUPP.
        ErrnoRow(errno: .notSupportedOnSocket, linux: 95, symbol: "EOPNOTSUPP", message: "Operation not supported"),
        ErrnoRow(errno: .notSupported, linux: 95, symbol: "EOPNOTSUPP", message: "Operation not supported"),
        ErrnoRow(errno: .timedOut, linux: 110, symbol: "ETIMEDOUT", message: "Connection timed out"),
        ErrnoRow(errno: .alreadyInProcess, linux: 114, symbol: "EALREADY", message: "Operation already in progress"),
        ErrnoRow(errno: .nowInProgress, linux: 115, symbol: "EINPROGRESS", message: "Operation now in progress"),
        ErrnoRow(errno: .staleNFSFileHandle, linux: 116, symbol: "ESTALE", message: "Stale file handle"),
        ErrnoRow(errno: .diskQuotaExceeded, linux: 122, symbol: "EDQUOT", message: "Disk quota exceeded"),
        ErrnoRow(errno: .canceled, linux: 125, symbol: "ECANCELED", message: "Operation canceled")
    ]
    #if os(Linux)
    // Only Linux has EHWPOISON (onlining a poisoned block in 6.12+/7.2).
    rows.append(
        ErrnoRow(
            errno: Errno(rawValue: 133), linux: 133, symbol: "EHWPOISON",
            message: "Memory page has hardware error"))
    #endif
    return rows
}()

/// Lookup by this platform's raw value; the first row wins where two names share a number.
private let rowsByRawValue: [CInt: ErrnoRow] = {
    var d: [CInt: ErrnoRow] = [:]
    for row in errnoRows where d[row.errno.rawValue] == nil { d[row.errno.rawValue] = row }
    return d
}()

private let rowsByLinux: [Int32: ErrnoRow] = {
    var d: [Int32: ErrnoRow] = [:]
    for row in errnoRows where d[row.linux] == nil { d[row.linux] = row }
    return d
}()

extension Errno {
    /// The kernel's symbolic name (`"EINVAL"`), for logs and scenario expectations.
    /// An errno outside the table prints as `errno N` with this platform's number.
    public var symbol: String {
        rowsByRawValue[rawValue]?.symbol ?? "errno \(rawValue)"
    }

    /// glibc's `strerror` text (`"Invalid argument"`), identical on every host: this is
    /// what `sh: write error: …` showed in the captures. Outside the table: glibc's
    /// `Unknown error N`.
    public var message: String {
        rowsByRawValue[rawValue]?.message ?? "Unknown error \(rawValue)"
    }

    /// The number Linux x86_64 uses for this errno (the kernel returns its negation),
    /// or nil when the table does not know it.
    public var linuxNumber: Int32? { rowsByRawValue[rawValue]?.linux }

    /// The Errno for a Linux errno number, e.g. the `-12` written to
    /// memory-notifier-error-inject (pass 12). Nil for numbers outside the table.
    public init?(linuxNumber: Int32) {
        guard let row = rowsByLinux[linuxNumber] else { return nil }
        self = row.errno
    }
}

/// An errno as Linux x86_64 numbers it: what the kernel's files return and what the FUSE
/// protocol carries (`fuse_out_header.error` is minus a Linux errno). The model's
/// `KernelError` holds the host's `Errno`; this is its Linux face, and the host's number
/// appears only where a host call needs one.
public struct LinuxErrno: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The Linux number of a host errno; EIO for one the table does not know.
    public init(_ errno: Errno) { rawValue = errno.linuxNumber ?? 5 }

    public static let EPERM = LinuxErrno(rawValue: 1), ENOENT = LinuxErrno(rawValue: 2)
    public static let EINTR = LinuxErrno(rawValue: 4), EIO = LinuxErrno(rawValue: 5)
    public static let EBADF = LinuxErrno(rawValue: 9), ENOMEM = LinuxErrno(rawValue: 12)
    public static let EACCES = LinuxErrno(rawValue: 13), EBUSY = LinuxErrno(rawValue: 16)
    public static let ENOTDIR = LinuxErrno(rawValue: 20), EISDIR = LinuxErrno(rawValue: 21)
    public static let EINVAL = LinuxErrno(rawValue: 22), ENOSYS = LinuxErrno(rawValue: 38)

    /// `EINVAL`; `errno N` outside the table.
    public var symbol: String { rowsByLinux[rawValue]?.symbol ?? "errno \(rawValue)" }
    /// glibc's text for it.
    public var message: String { rowsByLinux[rawValue]?.message ?? "Unknown error \(rawValue)" }
    public var description: String { symbol }
    /// The host's errno for it (the same number on Linux), nil when the table does not know it.
    public var hostErrno: Errno? { rowsByLinux[rawValue]?.errno }
}

extension KernelError {
    /// The errno as Linux numbers it.
    public var linuxErrno: LinuxErrno { LinuxErrno(errno) }
}
