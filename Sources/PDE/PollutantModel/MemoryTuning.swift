import Foundation

/// Process-wide allocator settings for the batch.
public enum MemoryTuning {
    /// Makes glibc's malloc keep freed memory for reuse instead of returning it to the kernel.
    ///
    /// Every UMFPACK numeric factorization allocates one block of ~50 MB on the default 120 × 80 mesh,
    /// above glibc's largest mmap threshold (32 MB), so by default each factorization maps fresh pages
    /// and the kernel zeroes them on first touch: 74 000 page faults and a quarter of a sample's time
    /// (measured: 0.85 s → 0.65 s per Newton solve, system time 0.25 s → 0.07 s). With mmap disabled
    /// (M_MMAP_MAX = 0) and trimming off, the block comes from the heap and is reused by the next
    /// factorization. Worker threads would get arenas of their own, whose heaps glibc unmaps as soon as
    /// they are empty whatever the trim threshold, so all threads share the main arena (M_ARENA_MAX = 1;
    /// the solvers allocate rarely, the lock is not contended): in a 40-sample batch on two threads this
    /// took the page faults from 808 000 to 81 000 and the system time from 2.8 s to 0.3 s.
    /// The process keeps its peak heap (a few hundred MB) until it exits.
    /// Returns false where the settings are unavailable (non-glibc).
    @discardableResult
    public static func retainFreedMemory() -> Bool {
        // mallopt is declared in <malloc.h>, which the Glibc module does not export: look it up at run time.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(symbol, to: MallOpt.self)
        let trimThreshold: Int32 = -1, mmapMax: Int32 = -4, arenaMax: Int32 = -8   // constants of <malloc.h>
        return mallopt(mmapMax, 0) == 1 && mallopt(trimThreshold, Int32.max) == 1 && mallopt(arenaMax, 1) == 1
    }
}
