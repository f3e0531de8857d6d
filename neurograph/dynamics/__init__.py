"""Dynamics of recurrent cells: fixed points and Jacobians, attractor dimension, limit cycles, phase codes.
"""

from .._lazy import attach

__all__ = [
    "AttractorDimension",
    "FixedPoints",
    "LimitCycle",
    "PhaseAutomaton",
    "PhaseShifts",
    "SolutionClass",
    "StepMap",
    "attractor_dimension",
    "cell_from_layer",
    "classify_solution",
    "find_fixed_points",
    "find_limit_cycle",
    "minimise_speed",
    "newton_refine",
    "phase_shifts",
    "relative_phases",
    "sample_initial_states",
    "visited_states",
]

__getattr__, __dir__ = attach(__name__, {
    "AttractorDimension": ".fixed_points",
    "FixedPoints": ".fixed_points",
    "LimitCycle": ".limit_cycle",
    "PhaseAutomaton": ".phase_code",
    "PhaseShifts": ".phase_code",
    "SolutionClass": ".solutions",
    "StepMap": ".cells",
    "attractor_dimension": ".fixed_points",
    "cell_from_layer": ".cells",
    "classify_solution": ".solutions",
    "find_fixed_points": ".fixed_points",
    "find_limit_cycle": ".limit_cycle",
    "minimise_speed": ".cells",
    "newton_refine": ".cells",
    "phase_shifts": ".phase_code",
    "relative_phases": ".phase_code",
    "sample_initial_states": ".fixed_points",
    "visited_states": ".cells",
})
