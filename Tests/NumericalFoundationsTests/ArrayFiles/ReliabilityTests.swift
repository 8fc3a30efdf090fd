import XCTest
import _TestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import NumericalFoundations

/// Folder creation, output locks and the clean-up of stale temporaries.
final class ReliabilityTests: XCTestCase {
    func temporaryFolder() throws -> URL {
        let url = try makeTemporaryFolder("reliability")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testFolderWhereAFileIsNamesThePath() throws {
        let root = try temporaryFolder()
        let file = root.appendingPathComponent("data")
        try Data("x".utf8).write(to: file)
        XCTAssertThrowsError(try Folder.create(file)) { XCTAssertEqual("\($0)", "\(file.path): expected a folder, found a file") }
        XCTAssertThrowsError(try Folder.create(file.appendingPathComponent("fem/fields"))) {
            XCTAssertEqual("\($0)", "\(file.path): expected a folder, found a file")
        }
        XCTAssertThrowsError(try AtomicFile.write("x", to: file.appendingPathComponent("fem/c3.npy"))) {
            XCTAssertEqual("\($0)", "\(file.path): expected a folder, found a file")
        }
        try Folder.create(root.appendingPathComponent("a/b"))
        try Folder.create(root.appendingPathComponent("a/b"))
    }

    func testSecondLockOfAFolderIsRefusedNamingTheHolder() throws {
        let folder = try temporaryFolder().appendingPathComponent("fem")
        let first = try OutputLock(folder: folder)
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent(".lock"), encoding: .utf8), "\(getpid())\n")
        XCTAssertThrowsError(try OutputLock(folder: folder)) {
            XCTAssertEqual("\($0)", "\(folder.path) is in use by another run (pid \(getpid())); wait for it to finish or stop it "
                           + "(the lock, \(folder.path)/.lock, is released when that process exits)")
        }
        first.release()
        let second = try OutputLock(folder: folder)
        second.release()
    }

    func testStaleTemporariesOfDeadWritersOnly() throws {
        let folder = try temporaryFolder()
        let target = folder.appendingPathComponent("c3.npy")
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = child.processIdentifier
        let names = [".c3.npy.tmp-\(dead)-1", ".c3.npy.tmp-\(getpid())-2", ".c3.npy.tmp-1-3", ".status.npy.tmp-\(dead)-4", ".c3.npy.tmp-x-5"]
        for name in names { try Data().write(to: folder.appendingPathComponent(name)) }
        try AtomicFile.write("new", to: target)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
        // pid 1 runs (init); our own pid runs; another output's temporaries and unparsable names stay.
        XCTAssertEqual(left, Set(names.dropFirst()).union(["c3.npy"]))
    }

    /// A folder built beside its target and renamed over it (the FEM fields' `.fields.tmp-PID`) is a
    /// temporary too: a dead writer's is removed with its contents, a live one's is kept.
    func testStaleTemporaryFoldersOfDeadWritersAreRemoved() throws {
        let folder = try temporaryFolder()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = child.processIdentifier
        for name in [".fields.tmp-\(dead)", ".fields.tmp-1"] {
            let staging = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
            try Data("field".utf8).write(to: staging.appendingPathComponent("center.vtu"))
        }
        let removed = AtomicFile.removeStaleTemporaries(of: folder.appendingPathComponent("fields"))
        XCTAssertEqual(removed, [".fields.tmp-\(dead)"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [".fields.tmp-1"])
    }
}
