import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The accepted connection a request came on, to notice a client that closed it while its request
/// waits for a FEM solver. FlyingFox reads nothing from a connection while its handler runs and gives
/// the handler no access to the socket; the socket is found among the process's descriptors by its
/// two ends (the server's port and the request's peer address), and its state read without consuming
/// anything (`recv` with MSG_PEEK).
enum ClientConnection {
    /// The descriptor of the TCP connection from `peer` (address, port) to the server's `port`.
    static func descriptor(peerAddress: String, peerPort: UInt16, serverPort: UInt16) -> Int32? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return nil }
        let wanted = normalized(peerAddress)
        for entry in entries {
            guard let fd = Int32(entry), fd > 2,
                  let local = endpoint(fd, getsockname), local.port == serverPort,
                  let remote = endpoint(fd, getpeername), remote.port == peerPort, normalized(remote.address) == wanted else { continue }
            return fd
        }
        return nil
    }

    /// Whether the client has closed (or reset) the connection; pending bytes of a next request are
    /// left in place.
    static func isClosed(_ fd: Int32) -> Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if n == 0 { return true }
        if n > 0 { return false }
        return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
    }

    /// An IPv4 client on a dual-stack socket appears as ::ffff:a.b.c.d.
    private static func normalized(_ address: String) -> String {
        address.hasPrefix("::ffff:") ? String(address.dropFirst(7)) : address
    }

    typealias NameFunction = (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32

    /// One end of a TCP socket: `getsockname` (this process's) or `getpeername` (the other's); nil for
    /// a descriptor that is no IPv4 or IPv6 socket.
    static func endpoint(_ fd: Int32, _ name: NameFunction) -> (address: String, port: UInt16)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { name(fd, $0, &length) == 0 } }
        guard ok else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET: return described(withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self) }, family: AF_INET, address: \.sin_addr, port: \.sin_port)
        case AF_INET6: return described(withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in6.self) }, family: AF_INET6, address: \.sin6_addr, port: \.sin6_port)
        default: return nil
        }
    }

    /// The address as text (`inet_ntop`) and the port in host order.
    private static func described<Socket, Address>(_ socket: Socket, family: Int32, address: KeyPath<Socket, Address>,
                                                   port: KeyPath<Socket, in_port_t>) -> (address: String, port: UInt16) {
        var raw = socket[keyPath: address]
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        inet_ntop(family, &raw, &text, socklen_t(text.count))
        return (String(cString: text), UInt16(bigEndian: socket[keyPath: port]))
    }
}
