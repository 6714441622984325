"""Exercises graded by the engine itself: a student's answer is checked against tracegrad's numbers.

`check_engine(value_class)` grades a student's own micrograd-style Value class case by case.
"""

from .engine import EngineReport, check_engine

__all__ = ["EngineReport", "check_engine"]
