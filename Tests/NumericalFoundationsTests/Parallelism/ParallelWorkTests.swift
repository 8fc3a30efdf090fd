import Foundation
import XCTest
@testable import NumericalFoundations

/// The schedules of the one thread pool: every index exactly once, static ranges that depend only on
/// the count, the thread count and the grain.
final class ParallelWorkTests: XCTestCase {
    /// Per-index slots written by several workers (each index by one worker only).
    final class Slots: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var hits: [Int]
        init(_ count: Int) { hits = [Int](repeating: 0, count: count) }
        func hit(_ i: Int) { lock.lock(); hits[i] += 1; lock.unlock() }
    }

    func testEveryItemRunsOnceOnAnyNumberOfWorkers() {
        for threads in [1, 2, 3, 64] {
            let slots = Slots(37)
            ParallelWork.forEachItem(count: 37, threads: threads) { slots.hit($0) }
            XCTAssertEqual(slots.hits, [Int](repeating: 1, count: 37), "threads \(threads)")
        }
        let all = Slots(5)
        ParallelWork.forEachItem(count: 5) { all.hit($0) }   // every core by default
        XCTAssertEqual(all.hits, [1, 1, 1, 1, 1])
        XCTAssertGreaterThanOrEqual(ParallelWork.allCores, 1)
        ParallelWork.forEachItem(count: 0) { _ in XCTFail("no items, no calls") }
    }

    func testStaticRangesCoverTheCountInOrder() {
        let lock = NSLock()
        var ranges: [Range<Int>] = []
        ParallelWork.forEachRange(count: 10, threads: 3, grain: 1) { r in lock.lock(); ranges.append(r); lock.unlock() }
        XCTAssertEqual(ranges.sorted { $0.lowerBound < $1.lowerBound }, [0..<3, 3..<6, 6..<10])
        var inline: [Range<Int>] = []
        ParallelWork.forEachRange(count: 10, threads: 4, grain: 8) { inline.append($0) }   // 10 / 8 < 2 chunks: one call
        XCTAssertEqual(inline, [0..<10])
    }
}
