"""The package layering of docs/design.md, enforced: imports point one way and form no cycle."""

import ast
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tools"))
import import_graph  # noqa: E402

# Imports inside functions that are neither of an optional dependency nor listed in
# import_graph.LAZY_EXCEPTIONS. The target is under 20; this ceiling only goes down.
MAX_IMPORTS_INSIDE_FUNCTIONS = 19


def test_no_upward_import():
    files, edges = import_graph.scan()
    assert import_graph.upward_imports(files, edges) == []


def test_no_module_level_cycle():
    files, edges = import_graph.scan()
    assert import_graph.cycles(files, edges) == []


def test_imports_inside_functions_stay_few():
    files, edges = import_graph.scan()
    lazy = import_graph.lazy_imports(files, edges)
    assert len(lazy) <= MAX_IMPORTS_INSIDE_FUNCTIONS, lazy


def test_every_module_has_a_level():
    files, _ = import_graph.scan()
    for module in files:
        import_graph.level_of(module)


def test_an_upward_import_is_caught(tmp_path):
    # A copy of two real modules with one import pointing up the order: the checker must see it.
    root = tmp_path / "strided"
    (root / "utils").mkdir(parents=True)
    (root / "layers").mkdir()
    (root / "__init__.py").write_text("")
    (root / "utils" / "__init__.py").write_text("")
    (root / "layers" / "__init__.py").write_text("")
    (root / "utils" / "validation.py").write_text("from strided.layers import base\n")
    (root / "layers" / "base.py").write_text("from strided.utils import validation\n")
    files, edges = import_graph.scan(root)
    assert ("strided.utils.validation", "strided.layers.base", 1) in import_graph.upward_imports(files, edges)
    assert import_graph.cycles(files, edges) == [["strided.layers.base", "strided.utils.validation"]]


def test_inside_function_import_is_counted(tmp_path):
    root = tmp_path / "strided"
    (root / "layers").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "config.py").write_text("")
    (root / "layers" / "__init__.py").write_text("")
    (root / "layers" / "core.py").write_text("def f():\n    from strided import config\n    import matplotlib\n")
    files, edges = import_graph.scan(root)
    assert import_graph.lazy_imports(files, edges) == [("strided.layers.core", "strided.config", 2)]
    assert ast.parse("x = 1")  # the checker reads source with ast only: nothing is imported


def test_optional_packages_are_imported_inside_functions():
    files, edges = import_graph.scan()
    assert import_graph.module_level_optional_imports(edges) == []


def test_optional_import_calls_are_read_as_imports(tmp_path):
    # strided.utils.optional.optional_import imports by name: the checker must still see which package, and where.
    root = tmp_path / "strided"
    (root / "layers").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "layers" / "__init__.py").write_text("")
    (root / "layers" / "core.py").write_text(
        "plt = optional_import('matplotlib.pyplot', 'Plotting')\n"
        "def f():\n    return optional_import('torch.utils.tensorboard', 'Logging', package='tensorboard')\n"
    )
    files, edges = import_graph.scan(root)
    assert ("strided.layers.core", "matplotlib", 1, False) in edges
    assert ("strided.layers.core", "tensorboard", 3, True) in edges
    assert import_graph.module_level_optional_imports(edges) == [("strided.layers.core", "matplotlib", 1)]


def test_every_optional_package_of_the_helper_is_listed_as_optional():
    from strided.utils.optional import PACKAGES

    assert set(PACKAGES) <= import_graph.OPTIONAL
