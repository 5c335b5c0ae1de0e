"""The template library: folders of manifests and Jinja2 sources, data rather than code.

``ROOT`` is where the shipped library lives; deployments may point ``CCM_TEMPLATES_DIR``
elsewhere. The rendering environment is built by :mod:`ccm.composition.environment`.
"""

from pathlib import Path

__all__ = ["ROOT"]

ROOT = Path(__file__).resolve().parent
