import Foundation
import XCTest
import NumericalFoundations
@testable import PDE
@testable import Pipeline

/// scripts/slurm/pollutant-fem.sbatch, run against a stand-in `sbatch` that executes the jobs at once
/// (array tasks with SLURM_JOB_ID and SLURM_ARRAY_TASK_ID set, then the dependent merge job), with the
/// `pollutant-fem` executable of this build. Skipped when the executable has not been built. The real
/// SLURM (failures, resume, submission from elsewhere) is scripts/slurm/test-real-slurm.sh, root only.
final class SlurmScriptTests: XCTestCase {
    func testJobArrayAndMergeGiveTheBytesOfAnUnshardedRun() throws {
        let exe = try Fixture.executable()
        let work = try Fixture.temporaryDirectory("slurm")
        defer { try? FileManager.default.removeItem(at: work) }
        let data = try Fixture.makeDataDirectory("slurm-data")
        let reference = try Fixture.makeDataDirectory("slurm-reference")
        defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: reference) }
        let configText = Fixture.tinyConfigText
        let configURL = work.appendingPathComponent("tiny.toml")
        try configText.write(to: configURL, atomically: true, encoding: .utf8)
        _ = try PollutantStage.run(config: PipelineConfig.parse(configText), dataDirectory: reference)

        // The stand-in sbatch: runs the job (every array task in turn) and prints a job id.
        let bin = work.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let fake = bin.appendingPathComponent("sbatch")
        try """
        #!/usr/bin/env bash
        array=""; dependency=""; all="$*"
        while [[ $1 == --* ]]; do
            case $1 in --array=*) array=${1#--array=} ;; --dependency=*) dependency=${1#--dependency=} ;; esac
            shift
        done
        echo "sbatch array=$array dependency=$dependency $all" >> "$SBATCH_LOG"
        unset SLURM_JOB_ID
        script=$1; shift
        id=$((1000 + RANDOM))
        if [ -n "$array" ]; then
            for k in $(seq "${array%-*}" "${array#*-}"); do
                SLURM_JOB_ID=$id SLURM_ARRAY_TASK_ID=$k SLURM_CPUS_PER_TASK=1 bash "$script" "$@" >> "$SBATCH_LOG" 2>&1 || exit 1
            done
        else
            SLURM_JOB_ID=$id bash "$script" "$@" >> "$SBATCH_LOG" 2>&1 || exit 1
        fi
        echo $id
        """.write(to: fake, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)

        let log = work.appendingPathComponent("sbatch.log")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", Fixture.packageRoot.appendingPathComponent("scripts/slurm/pollutant-fem.sbatch").path,
                             configURL.path, data.path, "3"]
        // Inside an allocation (salloc): the script must still submit, not act as a job.
        var environment = Fixture.sameKernel(ProcessInfo.processInfo.environment)
        environment["SLURM_JOB_ID"] = "77"
        environment["PATH"] = bin.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["POLLUTANT_FEM"] = exe.path
        environment["SBATCH_LOG"] = log.path
        environment.removeValue(forKey: "SLURM_ARRAY_TASK_ID")
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let logText = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        XCTAssertEqual(process.terminationStatus, 0, output + logText)
        XCTAssertTrue(output.contains("submitted array job"), output)
        // The merge job was submitted with a dependency on the array job.
        XCTAssertTrue(logText.contains("array=1-3 dependency= "), logText)
        XCTAssertTrue(logText.contains("dependency=afterok:"), logText)
        for k in 1...3 {
            XCTAssertTrue(FileManager.default.fileExists(atPath: PollutantStage.shardsFolder(data).appendingPathComponent(String(format: "shard-%04d-of-0003/shard.json", k)).path))
        }
        for name in ["c3.npy", "status.npy", "points.npy"] {
            XCTAssertEqual(try Fixture.bytes(PollutantStage.femFolder(data).appendingPathComponent(name)),
                           try Fixture.bytes(PollutantStage.femFolder(reference).appendingPathComponent(name)), name)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: PollutantStage.femFolder(data).appendingPathComponent("manifest.json").path))
        // The jobs are told what they are by an argument, and their logs go to the data folder.
        XCTAssertTrue(logText.contains("--job-shard \(configURL.path) \(data.path) 3"), logText)
        XCTAssertTrue(logText.contains("--job-merge"), logText)
        XCTAssertTrue(logText.contains("--output=\(data.path)/fem/slurm-logs/pollutant-fem-merge-%j.out"), logText)

        let status = try Fixture.run(URL(fileURLWithPath: "/usr/bin/env"),
                                     ["bash", Fixture.packageRoot.appendingPathComponent("scripts/slurm/pollutant-fem.sbatch").path,
                                      "status", configURL.path, data.path, "3"], environment: environment)
        XCTAssertEqual(status.status, 0, status.output)
        XCTAssertTrue(status.output.contains("shards done: 3 of 3"), status.output)
    }
}
