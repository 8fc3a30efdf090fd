import XCTest
import Foundation
import Pipeline

/// The layout names the files the stages wrote before it existed (docs/architecture.md's table):
/// a renamed file here would orphan every existing data folder.
final class DataLayoutTests: XCTestCase {
    func testPathsMatchTheDocumentedLayout() {
        let root = URL(fileURLWithPath: "/data", isDirectory: true)
        let layout = DataLayout(root)
        let expected: [(URL, String)] = [
            (layout.samples.params, "/data/samples/params.npy"), (layout.samples.split, "/data/samples/split.npy"),
            (layout.samples.manifest, "/data/samples/manifest.json"),
            (layout.wind.profiles, "/data/wind/profiles.npy"), (layout.wind.summary, "/data/wind/summary.npy"),
            (layout.wind.status, "/data/wind/status.npy"), (layout.wind.logWallCurvature, "/data/wind/log_fpp0.npy"),
            (layout.wind.effectiveParams, "/data/wind/effective_params.npy"),
            (layout.fem.c3, "/data/fem/c3.npy"), (layout.fem.status, "/data/fem/status.npy"), (layout.fem.points, "/data/fem/points.npy"),
            (layout.fem.fields, "/data/fem/fields"), (layout.fem.shards, "/data/fem/shards"),
            (layout.models.model("plain").folder, "/data/models/plain"), (layout.models.model("dmd").history, "/data/models/dmd/history.csv"),
            (layout.models.model("dmd").jumps, "/data/models/dmd/jumps.csv"), (layout.models.model("dmd").eigenvalues, "/data/models/dmd/eigenvalues"),
            (layout.models.comparison, "/data/models/comparison.json"),
            (layout.learningCurve.csv, "/data/learning_curve/learning_curve.csv"), (layout.sweep.folder, "/data/sweep"),
            (layout.uq.report, "/data/uq/uq.md"), (layout.uqFEMReference.c3, "/data/uq_fem_reference/c3.npy"), (layout.report.metrics, "/data/report/metrics.json"),
            (layout.report.manifest, "/data/report/manifest.json"),
        ]
        for (url, path) in expected { XCTAssertEqual(url.path, path) }
    }
}
