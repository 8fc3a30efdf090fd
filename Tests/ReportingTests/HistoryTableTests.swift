import Foundation
import XCTest
@testable import Surrogates
@testable import Reporting

final class TrainingHistoryTests: XCTestCase {
    // Ratios and means below are of numbers with short binary expansions; 1e-14 covers the rounding
    // of one division and a three-term sum.
    let tolerance = 1e-14

    /// A plain run of 4 epochs at exactly 1 s per epoch; final test MSE 0.30.
    let plainCSV = #"""
    epoch,train_mse,test_mse,wall_seconds,backprop_seconds,note
    1,0.8,0.9,1.0,0.9,warm-up
    2,0.6,0.7,2.0,0.9,
    3,0.4,0.5,3.0,0.9,"a, quoted ""note"""
    4,0.25,0.30,4.0,0.9,done
    """#

    /// A DMD run of 6 epochs at 1.1 s per epoch with jumps at epochs 2, 4 and 6.
    /// Training ratios 0.5/1.0 = 0.5, 0.6/0.5 = 1.2, 0.1/0.4 = 0.25; test ratios 1/2 = 0.5, 1/1 = 1, 0.5/1 = 0.5.
    let dmdCSV = """
    epoch,train_mse,test_mse,wall_seconds,jump,train_mse_before,train_mse_after,test_mse_before,test_mse_after,rank_L10,rank_L2,max_abs_eig_L2,snapshot_seconds,dmd_seconds,assign_seconds,backprop_seconds
    1,0.9,0.9,1.1,0,,,,,,,,0.01,,,0.9
    2,0.5,1.0,2.2,1,1.0,0.5,2.0,1.0,5,13,1.02,0.01,0.12,0.02,0.9
    3,0.5,0.35,3.3,0,,,,,,,,0.01,0,0,0.9
    4,0.6,0.3,4.4,1,0.5,0.6,1.0,1.0,6,12,0.98,0.01,0.12,0.02,0.9
    5,0.2,0.2,5.5,0,,,,,,,,0.01,0,0,0.9
    6,0.1,0.1,6.6,1,0.4,0.1,1.0,0.5,7,11,0.99,0.01,0.12,0.02,0.9

    """

    func testParsesRequiredExtraAndQuotedColumns() throws {
        let history = try HistoryTable.parse(plainCSV, source: "plain.csv")
        XCTAssertEqual(history.epochs, [1, 2, 3, 4])
        XCTAssertEqual(history.trainMSE, [0.8, 0.6, 0.4, 0.25])
        XCTAssertEqual(history.testMSE, [0.9, 0.7, 0.5, 0.30])
        XCTAssertEqual(history.wallSeconds, [1, 2, 3, 4])
        XCTAssertEqual(history.numbers("backprop_seconds"), [0.9, 0.9, 0.9, 0.9])
        XCTAssertEqual(history.text("note"), ["warm-up", "", "a, quoted \"note\"", "done"])
        XCTAssertFalse(history.hasJumpColumn)
        XCTAssertEqual(history.jumps, [])
        XCTAssertEqual(history.meanSecondsPerEpoch!, 1, accuracy: tolerance)
    }

    func testCRLFAndSpacesAndExtraNumericColumn() throws {
        let text = "epoch, train_mse ,test_mse,wall_seconds,lr\r\n0,1,1,0,1e-3\r\n10, 0.5 ,0.6,20,5e-4\r\n\r\n"
        let history = try HistoryTable.parse(text, source: "crlf.csv")
        XCTAssertEqual(history.epochs, [0, 10])
        XCTAssertEqual(history.trainMSE, [1, 0.5])
        XCTAssertEqual(history.numbers("lr"), [1e-3, 5e-4])
        // An epoch-0 row records the initial state: 20 s over 10 epochs.
        XCTAssertEqual(history.meanSecondsPerEpoch!, 2, accuracy: tolerance)
    }

    func testDMDStatisticsByHand() throws {
        let dmd = try HistoryTable.parse(dmdCSV, source: "dmd.csv")
        XCTAssertEqual(dmd.jumps.map(\.epoch), [2, 4, 6])
        let statistics = try DMDStatistics(history: dmd)
        XCTAssertEqual(statistics.jumpCount, 3)
        XCTAssertEqual(statistics.training.count, 3)
        XCTAssertEqual(statistics.training.meanRelativeError!, (0.5 + 1.2 + 0.25) / 3, accuracy: tolerance)   // 0.65
        XCTAssertEqual(statistics.training.medianRelativeError!, 0.5, accuracy: tolerance)
        XCTAssertEqual(statistics.training.shareHelped!, 2.0 / 3.0, accuracy: tolerance)
        let test = try XCTUnwrap(statistics.test)
        XCTAssertEqual(test.meanRelativeError!, 2.0 / 3.0, accuracy: tolerance)
        XCTAssertEqual(test.shareHelped!, 2.0 / 3.0, accuracy: tolerance)   // ratio exactly 1 did not help
        XCTAssertEqual(statistics.json["jumps"], 3)
        // Layer columns come back in layer order, not text order (L2 before L10).
        XCTAssertEqual(dmd.layerColumns(prefix: "rank_L").map(\.layer), [2, 10])
        XCTAssertEqual(dmd.layerColumns(prefix: "rank_L")[0].values, [nil, 13, nil, 12, nil, 11])
    }

    func testDivergedJumpIsCountedNotAveraged() throws {
        let text = """
        epoch,train_mse,test_mse,wall_seconds,jump,train_mse_before,train_mse_after
        1,1,1,1,1,1.0,0.5
        2,nan,nan,2,1,0.5,nan
        3,1,1,3,1,0,0
        """
        let statistics = try DMDStatistics(history: HistoryTable.parse(text, source: "d.csv"))
        XCTAssertEqual(statistics.jumpCount, 3)
        XCTAssertEqual(statistics.undefinedTrainingJumps, 1)     // MSE before = 0
        XCTAssertEqual(statistics.training.count, 2)
        XCTAssertEqual(statistics.training.divergedCount, 1)
        XCTAssertEqual(statistics.training.meanRelativeError!, 0.5, accuracy: tolerance)
        XCTAssertEqual(statistics.training.shareHelped!, 0.5, accuracy: tolerance)
        XCTAssertNil(statistics.test)
    }

    func testOverheadAndTimeToReachByHand() throws {
        let plain = try HistoryTable.parse(plainCSV, source: "plain.csv")
        let dmd = try HistoryTable.parse(dmdCSV, source: "dmd.csv")
        let comparison = try RunComparison(plain: plain, dmd: dmd)
        XCTAssertEqual(comparison.overheadPerEpoch, 1.1, accuracy: tolerance)     // (6.6 / 6) / (4 / 4)
        XCTAssertEqual(comparison.targetTestMSE, 0.30)
        // DMD test MSE 0.9, 1.0, 0.35, 0.3 → first ≤ 0.30 at epoch 4, 4.4 s.
        XCTAssertEqual(comparison.reach, .reached(epoch: 4, wallSeconds: 4.4))
        // The plain run itself first reached 0.30 at its end (4 s).
        XCTAssertEqual(comparison.plainReach, .reached(epoch: 4, wallSeconds: 4.0))
        XCTAssertEqual(comparison.speedup!, 4.0 / 4.4, accuracy: tolerance)
        // Training MSE: plain ends at 0.25 (first at epoch 4, 4 s); DMD 0.9, 0.5, 0.5, 0.6, 0.2 → epoch 5, 5.5 s.
        XCTAssertEqual(comparison.targetTrainMSE, 0.25)
        XCTAssertEqual(comparison.trainReach, .reached(epoch: 5, wallSeconds: 5.5))
        XCTAssertEqual(comparison.plainTrainReach, .reached(epoch: 4, wallSeconds: 4.0))
        XCTAssertEqual(comparison.trainSpeedup!, 4.0 / 5.5, accuracy: tolerance)
        // Reversed roles: the plain run never reaches the DMD run's final 0.1.
        let reversed = try RunComparison(plain: dmd, dmd: plain)
        XCTAssertEqual(reversed.reach, .never)
        XCTAssertNil(reversed.speedup)
        XCTAssertEqual(reversed.json["time_to_reach_plain_final_test_mse"], "never")

        // A plain run that overfits passes its final test MSE early: the speed-up compares first
        // reaches (epoch 2 at 2 s for the plain run, epoch 1 at 1.1 s for the other), not its end.
        let overfitting = try HistoryTable.parse("""
            epoch,train_mse,test_mse,wall_seconds
            1,0.8,0.9,1.0
            2,0.6,0.4,2.0
            3,0.4,0.6,3.0
            4,0.2,0.5,4.0
            """, source: "overfit.csv")
        let early = try HistoryTable.parse("""
            epoch,train_mse,test_mse,wall_seconds
            1,0.9,0.5,1.1
            2,0.7,0.7,2.2
            """, source: "early.csv")
        let c = try RunComparison(plain: overfitting, dmd: early)
        XCTAssertEqual(c.plainReach, .reached(epoch: 2, wallSeconds: 2.0))
        XCTAssertEqual(c.reach, .reached(epoch: 1, wallSeconds: 1.1))
        XCTAssertEqual(c.speedup!, 2.0 / 1.1, accuracy: tolerance)
        XCTAssertEqual(c.trainReach, .never)
        XCTAssertNil(c.trainSpeedup)
    }

    func testTimeBreakdownByHand() throws {
        let dmd = try TimeBreakdown(history: HistoryTable.parse(dmdCSV, source: "dmd.csv"))
        XCTAssertEqual(dmd.total, 1.1, accuracy: tolerance)
        XCTAssertEqual(dmd.backprop!, 0.9, accuracy: tolerance)
        XCTAssertEqual(dmd.snapshot!, 0.01, accuracy: tolerance)
        XCTAssertEqual(dmd.dmd!, 0.36 / 6, accuracy: tolerance)          // three jumps of 0.12 s over 6 epochs
        XCTAssertEqual(dmd.assignment!, 0.06 / 6, accuracy: tolerance)
        XCTAssertEqual(dmd.unaccounted, 1.1 - 0.9 - 0.01 - 0.06 - 0.01, accuracy: tolerance)
        XCTAssertEqual(dmd.parts.map(\.name), ["backprop", "snapshot", "DMD", "assignment", "other"])
        let plain = try TimeBreakdown(history: HistoryTable.parse(plainCSV, source: "plain.csv"))
        XCTAssertNil(plain.dmd)
        XCTAssertEqual(plain.parts.map(\.name), ["backprop", "other"])
    }

    /// Each malformed file gives one error naming the file, the line and the column.
    func testMalformedFilesNameFileLineAndColumn() {
        let header = "epoch,train_mse,test_mse,wall_seconds"
        let cases: [(String, Int?, String?, String)] = [
            ("", nil, nil, "empty file"),
            (header + "\n", 1, nil, "no data rows"),
            ("epoch,train_mse,wall_seconds\n1,1,1\n", 1, "test_mse", "required column missing"),
            ("epoch,train_mse,test_mse,wall_seconds,epoch\n", 1, "epoch", "appears twice"),
            (header + "\n1,1,1,1\n2,1,1\n", 3, nil, "3 cells; the header has 4 columns"),
            (header + "\n1,1,abc,1\n", 2, "test_mse", "'abc' is not a number"),
            (header + "\n1,1,0x10,1\n", 2, "test_mse", "'0x10' is not a number"),
            (header + "\n1.5,1,1,1\n", 2, "epoch", "not an integer"),
            (header + "\n2,1,1,1\n2,1,1,2\n", 3, "epoch", "does not increase"),
            (header + "\n1,1,1,5\n2,1,1,4\n", 3, "wall_seconds", "cumulative"),
            (header + "\n1,1,1,inf\n", 2, "wall_seconds", "not a finite time"),
            (header + "\n1,-1,1,1\n", 2, "train_mse", "negative MSE"),
            (header + "\n1,,1,1\n", 2, "train_mse", "empty cell in a required column"),
            (header + ",jump\n1,1,1,1,2\n", 2, "jump", "must be 0 or 1"),
            (header + ",jump,train_mse_before,train_mse_after\n1,1,1,1,1,,0.5\n", 2, "train_mse_before", "empty on a jump row"),
            (header + ",jump,train_mse_before\n1,1,1,1,0,\n", 1, "train_mse_after", "come together"),
            (header + ",rank_L1\n1,1,1,1,2.5\n", 2, "rank_L1", "integer rank"),
            (header + ",dmd_seconds\n1,1,1,1,-0.1\n", 2, "dmd_seconds", "not a finite time"),
            (header + "\n1,\"1,1,1\n", 2, nil, "unterminated quoted cell"),
            (header + "\n1,\"1\"x,1,1\n", 2, nil, "text after a closing quote"),
        ]
        for (text, line, column, message) in cases {
            XCTAssertThrowsError(try HistoryTable.parse(text, source: "runs/h.csv"), message) { error in
                guard let e = error as? HistoryParseError else { return XCTFail("\(error) is not a HistoryParseError") }
                XCTAssertEqual(e.path, "runs/h.csv")
                XCTAssertEqual(e.line, line, "\(message): \(e)")
                XCTAssertEqual(e.column, column, "\(message): \(e)")
                XCTAssertTrue(e.message.contains(message), "'\(e.message)' should contain '\(message)'")
            }
        }
    }

    func testLoadNamesMissingFile() {
        let url = URL(fileURLWithPath: "/nonexistent/history.csv")
        XCTAssertThrowsError(try HistoryTable.load(from: url)) { error in
            XCTAssertTrue("\(error)".hasPrefix("/nonexistent/history.csv: cannot read"), "\(error)")
        }
    }

    func testRunComparisonRejectsUnusableTarget() throws {
        let plain = try HistoryTable.parse("epoch,train_mse,test_mse,wall_seconds\n1,1,nan,1\n", source: "p.csv")
        let dmd = try HistoryTable.parse(dmdCSV, source: "dmd.csv")
        XCTAssertThrowsError(try RunComparison(plain: plain, dmd: dmd)) { XCTAssertTrue("\($0)".contains("p.csv: the final test MSE is nan")) }
    }
}
