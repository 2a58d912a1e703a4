import Dispatch

extension FUSEServer {
    /// Serves on a thread of its own (the caller goes on to run the tool that reads the mount)
    /// until the returned handle's `finish()`.
    public func serveInBackground() -> BackgroundServing {
        let done = DispatchSemaphore(value: 0)
        DispatchQueue(label: "memhp.fuse.serve").async {
            try? self.serve()
            done.signal()
        }
        return BackgroundServing(server: self, done: done)
    }
}

/// A server serving on its own thread (`FUSEServer.serveInBackground`).
public struct BackgroundServing: Sendable {
    let server: FUSEServer
    let done: DispatchSemaphore

    /// Stops the server, waits until its loop has left /dev/fuse, then unmounts: unmounting
    /// first would fail the requests still in the loop with ENOTCONN.
    public func finish() {
        server.stop()
        done.wait()
        server.unmount()
    }
}
