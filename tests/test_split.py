"""The unit/integration split stays honest: a test that loads a bundled model without the integration mark fails
(not skips), naming itself; one that carries the mark is left alone. An inner pytest run with this conftest."""

from __future__ import annotations

from pathlib import Path

pytest_plugins = ["pytester"]

CONFTEST = (Path(__file__).parent / "conftest.py").read_text(encoding="utf-8")
INI = """[pytest]
markers =
    integration: needs a model
"""


def test_an_unmarked_test_that_loads_a_model_fails_naming_itself(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makeini(INI)
    pytester.makepyfile(test_inner="""
        import pytest
        from verbatim_qa.vectorstore.embeddings import E5Embeddings

        def test_loads_e5():  # constructed, not get_embedder's cached instance: an outer run may have cached one
            E5Embeddings()

        @pytest.mark.integration
        def test_marked_and_modelless():
            pass

        def test_plain():
            assert 1 + 1 == 2
    """)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*test_inner.py::test_loads_e5 runs a bundled model (E5Embeddings.__init__) but is "
                                 "not marked integration*"])
