"""Optional dependencies: imported where they are used, so that ``import strided`` needs only torch and NumPy.

Every such import goes through :func:`optional_import`, which says in one wording what is missing and how to
install it: the package's pip name and the strided extra (``pyproject.toml``, ``[project.optional-dependencies]``)
that brings it. tools/import_graph.py reads these calls as imports inside a function.
"""

import importlib

# import name -> (pip name, strided extra that installs it)
PACKAGES = {
    "matplotlib": ("matplotlib", "plot"),
    "h5py": ("h5py", "h5"),
    "PIL": ("pillow", "images"),
    "pandas": ("pandas", "pandas"),
    "tensorboard": ("tensorboard", "tensorboard"),
    "onnx": ("onnx", "export"),
    "onnxscript": ("onnxscript", "export"),
}


def optional_import(module, purpose, package=None, alternative=""):
    """Imports ``module`` (a dotted name) and returns it, or raises an ImportError telling how to install it.

    Args:
        module: what to import, e.g. ``"matplotlib.pyplot"``.
        purpose: what needs it, the start of the message (``"Plotting with strided.visualize"``).
        package: the optional package behind ``module`` (a key of ``PACKAGES``) when it is not ``module``'s
            top-level name (``torch.utils.tensorboard`` needs ``tensorboard``).
        alternative: a sentence added to the message, e.g. what works without the package.

    Returns:
        The imported module.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pip_name, extra = PACKAGES[package or module.partition(".")[0]]
        message = (
            f"{purpose} needs the `{pip_name}` package. Install it with `pip install strided[{extra}]` "
            f"(or `pip install {pip_name}`)."
        )
        raise ImportError(f"{message} {alternative}".rstrip()) from exc
