import ArgumentParser
import Foundation
import Snapshot

/// `memhp host`: commands about the real host (read-only).
struct HostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host",
        abstract: "The real host, read-only: Prometheus metrics of the offline predictions.",
        subcommands: [HostMetricsCommand.self])
}

/// `memhp host metrics`: Prometheus text for node_exporter's textfile collector, or served
/// over HTTP with `--listen`.
struct HostMetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Print (or serve on /metrics) per-block offline predictions, hugepage pools and HVO's saving.",
        discussion:
            "For node_exporter: memhp host metrics > /var/lib/node_exporter/textfile/memhp.prom.tmp && mv ... (atomic rename)."
    )

    @OptionGroup var source: HostSourceOptions

    @Option(
        help:
            "Serve GET /metrics on HOST:PORT (e.g. 127.0.0.1:9101); each scrape reads the host (or the snapshot) again."
    )
    var listen: String?

    @Option(name: .customLong("assume"), help: ArgumentHelp("As for `memhp predict`.", valueName: "key=value"))
    var assume: [String] = []

    func render() throws -> String {
        let (s, c, _) = try source.load()
        var a = Assumptions()
        for t in assume {
            do { try a.apply(t) } catch let e as AssumptionError { throw ValidationError("--assume \(t): \(e)") }
        }
        return HostMetrics.render(
            snapshot: s, predictions: OfflinePredictor(snapshot: s, census: c, assumptions: a).predictAll(),
            assumptions: a)
    }

    func run() throws {
        let first = try render()
        guard let listen else { print(first, terminator: ""); return }
        let server: MetricsServer
        do {
            server = try MetricsServer(address: listen) {
                (try? self.render()) ?? "# memhp: the host could not be read\n"
            }
        } catch let e as MetricsServer.Failure { throw ValidationError(e.description) }
        printError(
            "memhp: serving /metrics on \(listen.split(separator: ":").first.map(String.init).flatMap { $0.isEmpty ? nil : $0 } ?? "0.0.0.0"):\(server.port)"
        )
        server.serve()
    }
}
