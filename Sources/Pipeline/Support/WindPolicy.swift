import PDE

extension NoSolutionPolicy {
    /// `[wind] no_solution` with its `clamp_margin` (formulation.md §2a): the one translation, for the
    /// wind stage's batch and the fem stage's in-process solves alike.
    public init(_ wind: WindSettings) {
        switch wind.noSolution {
        case .skip: self = .skip
        case .clamp: self = .clamp(margin: wind.clampMargin)
        case .error: self = .error
        }
    }
}
