"""From a template's function to what the sandbox runs, as ``sam build`` would lay it out.

Inline code becomes a module file (with CloudFormation's ``cfnresponse`` beside it), a zip
``CodeUri`` is unpacked, a ``requirements.txt`` is installed (``_build``), and each layer
becomes its folders on ``sys.path`` and its ARN.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

from lambda_magic.sandbox._build import Progress, install_requirements, requirements_of
from lambda_magic.sandbox._errors import SandboxError
from lambda_magic.sandbox._registry import layer_arn
from lambda_magic.sandbox._sam import SamFunction, SamTemplate

__all__ = ["CFNRESPONSE", "build_function"]

#: CloudFormation puts ``cfnresponse`` beside ``ZipFile``/``InlineCode`` functions.
CFNRESPONSE = Path(__file__).with_name("_cfnresponse.py")


def build_function(
    function: SamFunction,
    template: SamTemplate,
    *,
    workdir: Path,
    cache_dir: Path,
    progress: Progress | None,
    region: str,
) -> dict[str, Any]:
    """The keywords of ``Registry.add`` for ``function``; raises ``SandboxError``."""
    code = _code(function, workdir)
    code_dir = code if code.is_dir() else code.parent
    requirements = requirements_of(code_dir) if function.inline_code is None else None
    deps = (
        None
        if requirements is None
        else install_requirements(requirements, owner=function.name, cache_dir=cache_dir, progress=progress)
    )
    layer_paths: list[Path] = []
    for ref in function.layers:
        layer = template.layers[ref]
        wanted = requirements_of(layer.content) if layer.build else None
        layer_deps = (
            None
            if wanted is None
            else install_requirements(wanted, owner=f"layer {layer.name}", cache_dir=cache_dir, progress=progress)
        )
        layer_paths += layer.sys_path(layer_deps)
    return {
        "code": code,
        "handler": function.handler,
        "runtime": function.runtime,
        "timeout": function.timeout,
        "memory": function.memory,
        "environment": function.environment,
        "description": function.description,
        "reserved_concurrency": function.reserved_concurrency,
        "deps_dir": deps,
        "layers": layer_paths,
        "layer_arns": [layer_arn(template.layers[ref].name, region=region) for ref in function.layers],
        "log_format": function.log_format,
        "application_log_level": function.application_log_level,
        "system_log_level": function.system_log_level,
    }


def _code(function: SamFunction, workdir: Path) -> Path:
    """A folder (or .py file) holding the function's code."""
    if function.inline_code is not None:
        module = function.handler.rpartition(".")[0]
        folder = workdir / "inline" / function.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{module}.py").write_text(function.inline_code, encoding="utf-8")
        shutil.copyfile(CFNRESPONSE, folder / "cfnresponse.py")
        return folder
    assert function.code is not None
    if function.code.is_file() and function.code.suffix == ".zip":
        return _unzipped(function.code, workdir / "unzipped" / function.name)
    return function.code


def _unzipped(archive: Path, target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    try:
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(target)  # zipfile drops absolute paths and ".." parts
    except (OSError, zipfile.BadZipFile) as err:
        raise SandboxError(f"cannot unpack {archive.name}: {err}") from None
    return target
