"""Package requests: parsed, normalised and checked before anything is downloaded or installed.

A request is `name` or `name==version` (an exact pin; ranges, extras, URLs and markers are refused).
Checks, in order:
1. the name matches PEP 508's name pattern (ASCII letters, digits, `.`, `_`, `-`; at most 100 chars)
   and the version, when given, is a PEP 440 public version;
2. the PEP 503 normalised name is not on the blocklist of known-malicious packages
   (data/blocklist.txt);
3. unless it is on the allowlist of popular packages (data/popular.txt), it does not look like a
   typosquat of one: one edit away (a changed, added, dropped or two swapped characters; two edits
   for names of ten or more characters), the same once separators are removed, or the same once a
   py/python prefix or suffix is added or removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

NAME = re.compile(r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$")
# PEP 440 public versions (no local part: "+cpu" builds come from indexes that serve them by name)
VERSION = re.compile(r"^([1-9][0-9]*!)?(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*((a|b|rc)(0|[1-9][0-9]*))?"
                     r"(\.post(0|[1-9][0-9]*))?(\.dev(0|[1-9][0-9]*))?$")  # fmt: skip
MAX_NAME_LENGTH = 100
RANGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(<|>|!=|~=|=)")  # a version range or a single '='
MIN_STEM = 3  # "py" + a two-letter stem imitates nothing in particular
PREFIXES = ("python3-", "python-", "py3-", "py-", "python3", "python", "py3", "py")
SUFFIXES = ("-python3", "-python", "-py3", "-py", "python3", "python", "py3", "py")


class DenialReason(StrEnum):
    INVALID_NAME = "invalid_name"
    INVALID_VERSION = "invalid_version"
    BLOCKLISTED = "blocklisted"
    TYPOSQUAT = "typosquat"
    TOO_MANY = "too_many_packages"
    DUPLICATE = "duplicate"
    BLOCKLISTED_DEPENDENCY = "blocklisted_dependency"
    TOO_LARGE = "too_large"
    DISABLED = "packages_disabled"


@dataclass(frozen=True)
class Requirement:
    name: str  # normalised
    version: str | None = None

    def __str__(self) -> str:
        return f"{self.name}=={self.version}" if self.version else self.name


@dataclass(frozen=True)
class Denial:
    request: str
    reason: DenialReason
    detail: str

    def __str__(self) -> str:
        return f"package {self.request!r} denied ({self.reason.value}): {self.detail}"


class PackageDenied(Exception):
    def __init__(self, denial: Denial) -> None:
        super().__init__(str(denial))
        self.denial = denial


def normalise(name: str) -> str:
    """PEP 503: runs of -, _ and . become one -, lower case."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _load(filename: str) -> frozenset[str]:
    text = resources.files("servers.sandbox").joinpath("data", filename).read_text(encoding="utf-8")
    names = set()
    for line in text.splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            names.add(normalise(entry))
    return frozenset(names)


@cache
def blocklist() -> frozenset[str]:
    return _load("blocklist.txt")


@cache
def popular() -> frozenset[str]:
    return _load("popular.txt")


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent swaps); returns limit + 1 once over it."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _strip_affixes(name: str) -> set[str]:
    """The name without any one py/python prefix or suffix (and the name itself)."""
    variants = {name}
    for prefix in PREFIXES:
        if name.startswith(prefix):
            variants.add(name[len(prefix) :].strip("-"))
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            variants.add(name[: -len(suffix)].strip("-"))
    return {v for v in variants if len(v) >= MIN_STEM}


def _squat_limit(target: str) -> int:
    if len(target) >= 10:
        return 2
    return 1 if len(target) >= 4 else 0


def typosquat_of(name: str, known: frozenset[str] | None = None) -> tuple[str, str] | None:
    """(popular package, how) if `name` (normalised) imitates one; None if it looks like nothing."""
    known = popular() if known is None else known
    if name in known:
        return None
    flat = name.replace("-", "")
    stripped = _strip_affixes(name)
    for target in sorted(known):
        if flat == target.replace("-", ""):
            return target, "the same name with different separators"
        if stripped & _strip_affixes(target):
            return target, "the same name with a py/python prefix or suffix added or removed"
        limit = _squat_limit(target)
        if limit and osa_distance(name, target, limit) <= limit:
            return target, f"within {limit} typing mistake{'s' if limit > 1 else ''} of it"
    return None


def parse(request: str) -> Requirement:
    """`name` or `name==version` -> Requirement; raises PackageDenied with the reason."""
    text = request.strip()
    name, sep, version = text.partition("==")
    name, version = name.strip(), version.strip()
    if (sep and "=" in version) or (not sep and RANGE.match(text)):
        raise PackageDenied(
            Denial(request, DenialReason.INVALID_VERSION, "only exact pins are accepted: write name or name==version")
        )
    if len(name) > MAX_NAME_LENGTH or not NAME.match(name):
        raise PackageDenied(
            Denial(
                request,
                DenialReason.INVALID_NAME,
                "give a package name (ASCII letters, digits, '.', '_' and '-', starting and ending with a letter or "
                f"digit, at most {MAX_NAME_LENGTH} characters) or name==version; extras, URLs, paths, options and "
                "markers are not accepted",
            )
        )
    if sep and not VERSION.match(version):
        raise PackageDenied(
            Denial(request, DenialReason.INVALID_VERSION, f"{version!r} is not an exact version such as 1.2.3")
        )
    return Requirement(normalise(name), version if sep else None)


def check_name(name: str, request: str) -> None:
    if name in blocklist():
        raise PackageDenied(Denial(request, DenialReason.BLOCKLISTED, "it is on the list of known-malicious packages"))
    squat = typosquat_of(name)
    if squat:
        target, how = squat
        raise PackageDenied(
            Denial(
                request,
                DenialReason.TYPOSQUAT,
                f"it looks like a typosquat of the popular package {target!r} ({how}); "
                f"ask for {target!r} if that is what you meant",
            )
        )


def validate(requests: list[str], *, max_packages: int) -> list[Requirement]:
    """Every request parsed and checked; the first problem raises PackageDenied."""
    if len(requests) > max_packages:
        raise PackageDenied(
            Denial(
                ", ".join(requests[: max_packages + 1]),
                DenialReason.TOO_MANY,
                f"at most {max_packages} packages per run (got {len(requests)})",
            )
        )
    found: list[Requirement] = []
    for request in requests:
        requirement = parse(request)
        if any(r.name == requirement.name for r in found):
            raise PackageDenied(Denial(request, DenialReason.DUPLICATE, "the package is listed twice"))
        check_name(requirement.name, request)
        found.append(requirement)
    return found


WHEEL_FILENAME = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-[0-9][^-]*)?-[^-]+-[^-]+-[^-]+\.whl$")


def wheel_project(filename: str) -> tuple[str, str] | None:
    """(normalised project name, version) of a wheel file name; None if it is not a wheel."""
    match = WHEEL_FILENAME.match(filename)
    if not match:
        return None
    return normalise(match["name"]), match["version"]


def check_downloaded(filenames: list[str]) -> list[str]:
    """Every downloaded file must be a wheel of a package that is not blocklisted: name==version list."""
    found = []
    for filename in sorted(filenames):
        project = wheel_project(filename)
        if project is None:
            raise PackageDenied(Denial(filename, DenialReason.INVALID_NAME, "only wheels are installed"))
        name, version = project
        if name in blocklist():
            raise PackageDenied(
                Denial(
                    filename,
                    DenialReason.BLOCKLISTED_DEPENDENCY,
                    f"the dependency {name!r} is on the list of known-malicious packages",
                )
            )
        found.append(f"{name}=={version}")
    return sorted(found)
