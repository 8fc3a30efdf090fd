import Foundation

extension BLASKernelAdvice {
    /// `train-dmd blas-kernel`: prints the OPENBLAS_CORETYPE that `pipeline.sh` exports (the recommended
    /// kernel when OpenBLAS fell back to a generic one on this CPU and none was chosen), or nothing.
    public static func printRecommendedCoreType() {
        guard current != nil, let core = recommendedCoreType(cpuFlags: cpuFlags()) else { return }
        print(core)
    }
}
