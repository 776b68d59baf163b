"""Importing the integrations costs nothing extra, and a missing extra names itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_importing_the_package_imports_neither_optuna_nor_ray():
    code = (
        "import sys\n"
        "def loaded(): return sorted({m.split('.')[0] for m in sys.modules} & {'optuna', 'ray', 'sklearn'})\n"
        "import advisor.integrations\n"
        "print(loaded())\n"
        "import advisor.validation  # needs scikit-learn for its folds, never Ray\n"
        "print(loaded())\n"
    )
    out = _run(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["[]", "['sklearn']"]


def test_missing_optuna_raises_an_import_error_naming_the_extra():
    code = (
        "import sys; sys.modules['optuna'] = None\n"
        "import advisor\n"
        "from advisor.integrations import suggest_loss\n"
        "rec = advisor.recommend([1.0, 2.0, 3.5, 4.0, 8.0, 2.5, 3.0, 1.5])\n"
        "try:\n"
        "    suggest_loss(object(), rec)\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = _run(code)
    assert out.returncode == 0, out.stderr
    assert "loss-advisor[optuna]" in out.stdout


def test_missing_ray_raises_an_import_error_naming_the_extra():
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "import numpy as np, advisor\n"
        "x = np.arange(20.0).reshape(10, 2)\n"
        "try:\n"
        "    advisor.validate(x, x[:, 0], ['MSELoss'], task='regression', folds=2, epochs=1,\n"
        "                     backend='ray')\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = _run(code)
    assert out.returncode == 0, out.stderr
    assert "loss-advisor[ray]" in out.stdout
