"""Where the test fixtures are: shared by the conftest files and the tests that build from them."""

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PIPELINE = FIXTURES / "pipeline"
