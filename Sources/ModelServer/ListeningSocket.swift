import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Turns off Nagle's algorithm on the server's listening socket; Linux copies the option to every
/// accepted connection.
///
/// FlyingFox writes a response's header and body with two `write` calls. With Nagle on, the body waits
/// for the ACK of the header, which a keep-alive client delays by up to 40 ms: 23 answers per second
/// and connection were measured, against about a thousand on a fresh connection. FlyingFox offers no
/// hook on its sockets, so the listening socket is found among the process's descriptors by its port
/// (a listening TCP socket bound to it) and the option set there, once, after the server listens.
enum ListeningSocket {
    /// Returns whether a listening socket on `port` was found and set.
    @discardableResult
    static func disableNagle(port: UInt16) -> Bool {
        var found = false
        for fd in Int32(3)..<Int32(1024) where isListening(fd) && boundPort(fd) == port {
            var one: Int32 = 1
            if setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 { found = true }
        }
        return found
    }

    private static func isListening(_ fd: Int32) -> Bool {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &length) == 0 && value != 0
    }

    private static func boundPort(_ fd: Int32) -> UInt16? { ClientConnection.endpoint(fd, getsockname)?.port }
}
