"""Domain defects the fuzzer found that the transport cannot fix, kept visible, not hidden.

Each entry is an INTERNAL whose traceback (in the server log, found by the reference the status
carries) ends in the advisor library rather than the server: the library raised a bare torch,
numpy or scikit-learn exception instead of one of its typed errors. The server is right to answer
INTERNAL (it is a bug, and it must not guess which field to blame); the fix belongs in the
library. Fuzzing counts these apart from contract breaches and the report lists them, so an
entry whose defect is fixed simply stops being counted; delete it then.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_REF = re.compile(r"\(ref ([0-9a-f]{8})\)")


@dataclass(frozen=True)
class Defect:
    name: str
    where: str  # a frame the traceback must pass through: "path/file.py", in function
    function: str
    error: str  # the exception type the traceback ends with


# Fixed in the library and gone from here: sample weights on losses that read a 1-D input as
# one sample; negative targets for task=count in validate; float64 features beyond float32's
# range (now refused as INVALID_ARGUMENT naming the column, where the imputer raised).
DEFECTS: list[Defect] = []


def reference(message: str) -> str | None:
    match = _REF.search(message or "")
    return match.group(1) if match else None


def traceback_for(lines: list[dict], ref: str) -> str:
    for line in lines:
        if f"(ref {ref})" in str(line.get("event", "")) and "traceback" in line:
            return line["traceback"]
    return ""


def classify(traceback: str) -> Defect | None:
    """The known defect this traceback shows, if any."""
    last = traceback.strip().splitlines()[-1] if traceback.strip() else ""
    for defect in DEFECTS:
        frame = re.search(
            rf'File "[^"]*{re.escape(defect.where)}", line \d+, in {defect.function}\b', traceback
        )
        if frame and last.startswith(defect.error):
            return defect
    return None
