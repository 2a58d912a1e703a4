/// The kernel's FUSE wire protocol (include/uapi/linux/fuse.h, protocol 7.x), spoken
/// directly over /dev/fuse so that building memhp needs no libfuse. Only what a read-mostly
/// synthetic tree needs is here; struct sizes and field orders follow fuse.h exactly.
enum FUSEOpcode: UInt32 {
    case lookup = 1, forget = 2, getattr = 3, setattr = 4, readlink = 5, symlink = 6
    case mknod = 8, mkdir = 9, unlink = 10, rmdir = 11, rename = 12, link = 13
    case open = 14, read = 15, write = 16, statfs = 17, release = 18, fsync = 20
    case setxattr = 21, getxattr = 22, listxattr = 23, removexattr = 24, flush = 25
    case initialize = 26, opendir = 27, readdir = 28, releasedir = 29, fsyncdir = 30
    case getlk = 31, setlk = 32, setlkw = 33, access = 34, create = 35, interrupt = 36
    case bmap = 37, destroy = 38, ioctl = 39, poll = 40, notifyReply = 41, batchForget = 42
    case fallocate = 43, readdirplus = 44, rename2 = 45, lseek = 46, copyFileRange = 47
    case setupMapping = 48, removeMapping = 49, syncfs = 50, tmpfile = 51
}

enum FUSEConst {
    static let kernelVersion: UInt32 = 7
    /// The newest minor version whose reply layouts this server writes (fuse_init_out as of 7.31).
    static let maxMinor: UInt32 = 31
    static let inHeaderSize = 40
    static let outHeaderSize = 16
    static let attrSize = 88
    static let entryOutSize = 40 + attrSize
    static let rootID: UInt64 = 1

    // fuse_init flags
    static let atomicOTrunc: UInt32 = 1 << 3
    static let bigWrites: UInt32 = 1 << 5
    static let doReaddirplus: UInt32 = 1 << 13
    static let maxPages: UInt32 = 1 << 22
    /// FUSE_NO_OPENDIR_SUPPORT (7.29): the kernel opens a directory without asking once
    /// OPENDIR has been answered with ENOSYS.
    static let noOpendirSupport: UInt32 = 1 << 24
    static let initExt: UInt32 = 1 << 30
    // fuse_open_out.open_flags
    static let fopenDirectIO: UInt32 = 1 << 0
    /// FOPEN_NOFLUSH (7.35; older kernels ignore it): no FUSE_FLUSH at close.
    static let fopenNoFlush: UInt32 = 1 << 5
    /// fuse_notify_code FUSE_NOTIFY_INVAL_ENTRY, sent as the out header's error with unique 0.
    static let notifyInvalEntry: Int32 = 3
    /// FUSE_NOTIFY_INVAL_INODE: a node's cached attributes and pages (a directory's listing).
    static let notifyInvalInode: Int32 = 2
    /// Seconds the kernel may keep a name or attributes before asking again (`NodeIDs` says
    /// why that is safe at any length: every change is taken back or carried by its reply).
    /// An hour, so that a walk over tens of thousands of blocks that takes longer than a
    /// second (lsmem over a 16 TiB guest) does not look up again every name the listing of
    /// /sys/devices/system/memory gave it.
    static let entryTimeout: UInt64 = 3600
    // fuse_setattr_in.valid
    static let fattrMode: UInt32 = 1 << 0
    static let fattrUID: UInt32 = 1 << 1
    static let fattrGID: UInt32 = 1 << 2

    static let maxWrite: UInt32 = 128 * 1024
    /// fuse_init_out.max_pages: FUSE_MAX_MAX_PAGES, so that a max_write request from an
    /// unaligned user buffer (33 pages) is still one full request.
    static let maxPagesLimit: UInt16 = 256
    /// Room for one request: the largest WRITE plus its headers, with margin.
    static let bufferSize = 1 << 20
}

/// Little-endian reader over one request.
struct FUSEReader {
    let bytes: UnsafeRawBufferPointer
    var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) { self.bytes = bytes; self.offset = offset }

    var remaining: Int { bytes.count - offset }

    mutating func u32() -> UInt32 {
        guard remaining >= 4 else { offset = bytes.count; return 0 }
        defer { offset += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    mutating func u64() -> UInt64 {
        guard remaining >= 8 else { offset = bytes.count; return 0 }
        defer { offset += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
    mutating func u16() -> UInt16 {
        guard remaining >= 2 else { offset = bytes.count; return 0 }
        defer { offset += 2 }
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    mutating func skip(_ n: Int) { offset = min(bytes.count, offset + n) }
    /// A NUL-terminated name (LOOKUP, MKDIR, ...).
    mutating func cString() -> String {
        var end = offset
        while end < bytes.count, bytes[end] != 0 { end += 1 }
        defer { offset = min(bytes.count, end + 1) }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<end]), as: UTF8.self)
    }
    mutating func rest(_ n: Int) -> [UInt8] {
        let k = max(0, min(n, remaining))
        defer { offset += k }
        return Array(bytes[offset..<(offset + k)])
    }
}

/// Little-endian writer for one reply body.
struct FUSEWriter {
    var bytes: [UInt8] = []
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func zeros(_ n: Int) { bytes.append(contentsOf: repeatElement(0, count: n)) }
    mutating func pad8() { while bytes.count % 8 != 0 { bytes.append(0) } }
}

/// What `fuse_attr` says about one node.
struct FUSEAttr {
    var ino: UInt64
    var size: UInt64
    var mode: UInt32
    var nlink: UInt32
    var time: UInt64
    var uid: UInt32 = 0
    var gid: UInt32 = 0

    /// fuse_attr as 11 little-endian words (two u32 fields share a word, the first in its
    /// low half): one append per reply instead of one per field, as a listing of thousands
    /// of entries sends it for each.
    private var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) {
        func pair(_ lo: UInt32, _ hi: UInt32) -> UInt64 { (UInt64(lo) | UInt64(hi) << 32).littleEndian }
        return (
            ino.littleEndian, size.littleEndian, ((size + 511) / 512).littleEndian,
            time.littleEndian, time.littleEndian, time.littleEndian,  // atime, mtime, ctime
            pair(0, 0),  // atimensec, mtimensec
            pair(0, mode),  // ctimensec, mode
            pair(nlink, uid),  // uid: root, as sysfs, unless chown
            pair(gid, 0),  // gid, rdev
            pair(4096, 0)  // blksize, flags
        )
    }

    func write(to w: inout FUSEWriter) {
        var t = words
        withUnsafeBytes(of: &t) { w.bytes.append(contentsOf: $0) }
    }

    /// fuse_entry_out: the name and attributes may be cached for `FUSEConst.entryTimeout`
    /// (reads are direct, so every read still sees the model's current state).
    func writeEntry(to w: inout FUSEWriter, nodeID: UInt64) {
        // nodeid, generation, entry_valid, attr_valid, entry_valid_nsec and attr_valid_nsec.
        var t = (
            nodeID.littleEndian, UInt64(0), FUSEConst.entryTimeout.littleEndian,
            FUSEConst.entryTimeout.littleEndian, UInt64(0), words
        )
        withUnsafeBytes(of: &t) { w.bytes.append(contentsOf: $0) }
    }
}
