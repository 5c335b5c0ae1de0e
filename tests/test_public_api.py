"""Every module declares ``__all__``, and it lists every public class and function it defines."""

import importlib
import inspect
import pkgutil

import pytest

PACKAGES = ("ccm", "signing", "channels", "api", "templates")


def _modules() -> list[str]:
    names = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        names.append(package_name)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
            if ".migrations" in info.name or info.name.endswith("__main__"):
                continue
            names.append(info.name)
    return names


@pytest.mark.parametrize("name", _modules())
def test_all_is_complete(name: str) -> None:
    module = importlib.import_module(name)
    assert hasattr(module, "__all__"), f"{name} has no __all__"
    defined = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == name
    }
    missing = defined - set(module.__all__)
    assert not missing, f"{name}.__all__ lacks {sorted(missing)}"
    unknown = [n for n in module.__all__ if not hasattr(module, n)]
    assert not unknown, f"{name}.__all__ names missing attributes {unknown}"
