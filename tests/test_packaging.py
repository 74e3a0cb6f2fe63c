"""requirements.lock must stay the resolution of pyproject.toml's requirements: a pin
changed in one and not the other would install something the tests never ran."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCKED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def _locked() -> tuple[dict[str, str], list[str]]:
    """The lock's pinned versions by package name, and the packages it gives no hash for."""
    versions, unhashed, current = {}, [], None
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        match = LOCKED.match(line)
        if match:
            if current is not None:
                unhashed.append(current)
            current = canonicalize_name(match.group(1))
            versions[current] = match.group(2)
        elif "--hash=sha256:" in line:
            current = None
    return versions, unhashed + ([current] if current else [])


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(text) for text in project["dependencies"] + project["optional-dependencies"]["test"]]


def test_the_lock_pins_every_declared_requirement_within_its_range():
    versions, _ = _locked()
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in versions, f"{requirement} is in pyproject.toml but not in requirements.lock"
        assert requirement.specifier.contains(versions[name], prereleases=True), (
            f"requirements.lock pins {name}=={versions[name]}, outside pyproject.toml's {requirement}"
        )


def test_every_locked_package_has_a_hash():
    versions, unhashed = _locked()
    assert len(versions) > len(_declared())  # the dependencies' own dependencies are locked too
    assert unhashed == []
