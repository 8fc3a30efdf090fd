import _LinearAlgebraShims
#if canImport(Glibc)
import Glibc
#endif

extension Lapack {
    /// Runs `body` with OpenBLAS limited to one thread, restoring the previous thread count when the
    /// last such region ends (regions may nest and overlap across threads; a lock and a counter keep
    /// the save/restore consistent).
    ///
    /// For code that parallelises over many independent small LAPACK calls itself (the blocks of
    /// `TallSkinnyQR`, the layers of a DMD jump): OpenBLAS's own worker threads spin while they wait,
    /// so letting every concurrent call also start them oversubscribes the cores — measured on this
    /// 2-core machine, the QR of a 2.7e6 × 14 matrix took 569 ms that way and 85 ms with one BLAS
    /// thread per call. The thread count is process-wide: a BLAS call made by another thread while a
    /// region is active runs single-threaded too (correct, only slower).
    public static func withSingleThreadedBLAS<R>(_ body: () throws -> R) rethrows -> R {
        LapackBLASThreadLimit.shared.enter()
        defer { LapackBLASThreadLimit.shared.leave() }
        return try body()
    }
}

/// The reference-counted OpenBLAS thread limit behind `Lapack.withSingleThreadedBLAS`.
final class LapackBLASThreadLimit: @unchecked Sendable {
    static let shared = LapackBLASThreadLimit()
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var depth = 0
    private var savedThreads: Int32 = 1

    private init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    func enter() {
        pthread_mutex_lock(mutex)
        if depth == 0 {
            savedThreads = openblas_get_num_threads()
            if savedThreads != 1 { openblas_set_num_threads(1) }
        }
        depth += 1
        pthread_mutex_unlock(mutex)
    }

    func leave() {
        pthread_mutex_lock(mutex)
        depth -= 1
        if depth == 0 && savedThreads != 1 { openblas_set_num_threads(savedThreads) }
        pthread_mutex_unlock(mutex)
    }
}
