"""Real Keras programs (tests/real_programs.py): each runs on strided, and on real Keras [torch] when installed.

The table of docs/keras_compat.md comes from tools/real_programs_table.py, which runs the same programs.
"""

import pathlib

import pytest

import real_programs
import strided

IDS = [name for name, _, _ in real_programs.PROGRAMS]


def test_the_suite_follows_at_least_25_guides_and_examples():
    assert len(real_programs.PROGRAMS) >= 25
    assert len(set(IDS)) == len(IDS)
    assert all(guide.startswith(("guides/", "examples/")) for _, guide, _ in real_programs.PROGRAMS)


@pytest.mark.parametrize("name, guide, program", real_programs.PROGRAMS, ids=IDS)
def test_program_runs_on_strided(name, guide, program):
    strided.utils.set_random_seed(0)
    program(strided)


@pytest.mark.keras
@pytest.mark.parametrize("name, guide, program", real_programs.PROGRAMS, ids=IDS)
def test_program_runs_on_keras(real_keras, name, guide, program):
    status, why = real_programs.run(program, real_keras)
    if status == "needs TensorFlow":
        pytest.skip(f"needs TensorFlow on Keras: {why}")
    if status == "fail" and name in real_programs.KNOWN_KERAS_ISSUES:
        pytest.xfail(real_programs.KNOWN_KERAS_ISSUES[name])
    assert status == "pass", why


def test_docs_table_lists_every_program():
    doc = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "keras_compat.md").read_text()
    table = doc.split("real-programs-table:begin", 1)[1].split("real-programs-table:end", 1)[0]
    for name in IDS:
        assert f"| `{name}` |" in table, name


def test_run_classifies_missing_tensorflow_apart_from_failures():
    def needs_tf(keras):
        try:
            import tensorflow_is_not_here  # noqa: F401
        except ImportError as e:
            raise ImportError("This requires the tensorflow module.") from e

    def broken(keras):
        raise KeyError("x")

    assert real_programs.run(needs_tf, strided)[0] == "needs TensorFlow"
    assert real_programs.run(broken, strided) == ("fail", "KeyError: 'x'")
    assert real_programs.run(lambda keras: None, strided) == ("pass", "")
