import Scenario

/// `memhp-schema.h`: `ObservationSchema`'s lists rendered as C, the header memhp-guest.c is
/// compiled with (`KernelRunner.guestBinary`). The guest then reads exactly the meminfo and
/// vmstat keys, tunables, boot log lines and kpageflags classes the model runner reads, in the
/// same order; the C file has no list of its own.
enum GuestHeader {
    static let fileName = "memhp-schema.h"

    static func render() -> String {
        typealias S = ObservationSchema
        let classes = S.PageClass.allCases
        return """
            /* Generated from ObservationSchema (Sources/Scenario/ObservationSchema.swift) by
             * Sources/KernelRunner/GuestHeader.swift when the guest is built: do not edit. */
            #define MEMHP_MEMINFO_KEYS \(list(S.meminfoKeys))
            #define MEMHP_VMSTAT_KEYS \(list(S.vmstatKeys))
            #define MEMHP_PARAM_PATHS \(list(S.paramPaths))
            #define MEMHP_BOOT_LOG_KEYS \(list(S.bootLogKeys))
            enum memhp_page_class { \(classes.map { "PC_\($0.rawValue), " }.joined())PC_COUNT };
            #define MEMHP_PAGE_CLASS_NAMES \(list(classes.map(\.rawValue)))

            """
    }

    /// `"a", "b", NULL`: an initializer for a NULL-terminated `const char *[]`.
    static func list(_ items: [String]) -> String {
        (items.map(cString) + ["NULL"]).joined(separator: ", ")
    }

    /// A C string literal: quotes and backslashes escaped, other bytes outside printable ASCII as octal.
    static func cString(_ s: String) -> String {
        var out = "\""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += "\\\""
            case UInt8(ascii: "\\"): out += "\\\\"
            case 0x20..<0x7f: out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let o = String(b, radix: 8)
                out += "\\" + String(repeating: "0", count: 3 - o.count) + o
            }
        }
        return out + "\""
    }
}
