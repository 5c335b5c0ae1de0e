"""RN 593/2023 (as amended by RN 617/2024): delinquency cases and their regulatory clock."""

from ccm.rn593.case import Case
from ccm.rn593.clock import Block, ClockPolicy, Evaluation, evaluate
from ccm.rn593.reading import case_schema, read_case

__all__ = ["Block", "Case", "ClockPolicy", "Evaluation", "case_schema", "evaluate", "read_case"]
