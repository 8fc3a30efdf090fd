import Foundation
import XCTest
@testable import PDE
import Pipeline

/// `[fem]` decoded into PollutantModel's specification, and `[wind]` translated into its options.
final class SettingsTranslationTests: XCTestCase {
    func testFEMSettingsBecomeTheSpecification() throws {
        let fem = try Fixture.config("inflow_detection = \"nodal\"\nground_inflow = true\nterrain = [{center = 0.5, height = 0.1, width = 0.2}]").fem
        let s = fem.problem
        XCTAssertEqual([s.mesh.nx, s.mesh.ny, s.observationNx, s.observationNy], [12, 8, 6, 4])
        XCTAssertEqual(s.inflowDetection, .nodal)
        XCTAssertTrue(s.groundInflow)
        XCTAssertEqual(s.mesh.terrain, Terrain(bumps: [TerrainBump(center: 0.5, height: 0.1, width: 0.2)]))
        // [fem] sources give radius², the disk its radius.
        XCTAssertEqual(s.sources, [SourceDisk(disk: Disk(centerX: 0.1, centerY: 0.1, radius: 0.5), rate: 0.1),
                                   SourceDisk(disk: Disk(centerX: 0.1, centerY: 0.3, radius: 0.5), rate: 0.1)])
        XCTAssertEqual(s.resolution(nx: 20, ny: 10).mesh.nx, 20)
        let d = try PollutantDiscretization(settings: fem, nx: 14)
        XCTAssertEqual(d.mesh.nodeCount, 15 * 9)
        XCTAssertEqual(d.inflowDetection, .nodal)
    }

    func testMeshErrorsFromTheConfigurationNameTheSection() throws {
        let fem = try Fixture.config("terrain = [{center = 0.5, height = 2.0, width = 0.2}]").fem
        assertThrows(try PollutantDiscretization(settings: fem), contains: ["[fem] mesh:", "reaches the top"])
        assertThrows(try PollutantDiscretization(fem.problem), contains: ["mesh:", "reaches the top"])
    }

    func testWindSettingsBecomeTheInProcessOptions() throws {
        let clamp = try Fixture.config(overrides: ["wind.no_solution=clamp", "wind.clamp_margin=0.002", "wind.nu=2e-5"]).wind
        let options = InProcessWind.Options(clamp)
        XCTAssertEqual(options.policy, .clamp(margin: 0.002))
        XCTAssertEqual(options.nu, 2e-5)
        XCTAssertEqual(options.x0, clamp.x0)
        XCTAssertEqual(options.profilePoints, 64)
        XCTAssertEqual(NoSolutionPolicy(try Fixture.config(overrides: ["wind.no_solution=error"]).wind), .error)
        XCTAssertEqual(NoSolutionPolicy(try Fixture.config().wind), .skip)
        // A blown-off layer has no profile under `error` as under `skip`; under `clamp` it gets one.
        let blowOff = PollutantParameters(k12: 1, k3: 1, diffusion: 0.1, u0: 1, uh: 0, uv: 0.1)
        var error = options; error.policy = .error
        assertThrows(try InProcessWind.profile(for: blowOff, options: error), contains: ["no wind profile"])
        XCTAssertEqual(try InProcessWind.profile(for: blowOff, options: options).status, .clamped)
    }
}
