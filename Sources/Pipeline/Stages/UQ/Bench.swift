import Foundation
import PDE
import NumericalFoundations
import Surrogates

extension UQStage {
    /// Surrogate evaluations per second at `batch` rows per call: the model in `folder` if it exists,
    /// else a random-weight network of `widths` (timing only; dense-layer cost does not depend on the values).
    public static func bench(folder: URL?, widths: [Int], box: [ClosedRange<Double>], batch: Int, rows: Int,
                             threads: Int) throws -> (model: String, rowsPerSecond: Double, seconds: Double) {
        let model: SurrogateModel
        var name: String
        if let folder, FileManager.default.fileExists(atPath: folder.appendingPathComponent(SurrogateModel.descriptionFile).path) {
            model = try SurrogateModel.load(from: folder); name = folder.path
        } else {
            let layout = try NetworkLayout(widths: widths, activation: .softsign)
            let network = Network<Float>(layout: layout, seed: 1)
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("uq-bench-\(getpid())")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: scratch) }
            let out = widths[widths.count - 1]
            try SurrogateModel.write(network: network,
                                     description: ModelDescription(layout: layout, precision: .float32, inputNames: PollutantParameters.names,
                                                                   epochsCompleted: 0, epochsPlanned: 0, trainSamples: 0, testSamples: 0),
                                     inputScaler: InputScaler(ranges: box),
                                     outputScaler: OutputScaler(mean: [Double](repeating: 0, count: out), standardDeviation: [Double](repeating: 1, count: out)),
                                     to: scratch)
            model = try SurrogateModel.load(from: scratch)
            name = "random-weight \(widths.map(String.init).joined(separator: "→")) (no trained model)"
        }
        var x = [Double](repeating: 0, count: batch * box.count)
        for r in 0..<batch { for j in 0..<box.count { x[r * box.count + j] = box[j].lowerBound + (box[j].upperBound - box[j].lowerBound) * Double((r * 7 + j * 3) % 97) / 96 } }
        _ = try model.predict(parameters: x, rows: batch, threads: threads)   // warm-up
        let start = monotonicSeconds()
        var done = 0
        while done < rows { _ = try model.predict(parameters: x, rows: batch, threads: threads); done += batch }
        let seconds = monotonicSeconds() - start
        return (name, Double(done) / seconds, seconds)
    }
}
