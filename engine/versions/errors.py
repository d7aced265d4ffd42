"""The version commands' errors (`versions`, `diff`, `rollback`): one family, stable codes
RB830–RB839 (docs/reference/error-codes.md)."""

from __future__ import annotations

from engine.common.errors import RulebotError

CODES = {
    "RB830": "no version with this id (or id prefix) in the state's version store, or the prefix is ambiguous",
    "RB831": "the version store has no content for this version (recorded before content was kept)",
    "RB832": "rollback refused: the target version's human files (base or profiles) differ from the current ones",
    "RB833": "a stored version's content does not rebuild to its id, or cannot be written as rule files",
    "RB834": "no live version: the state's version store is empty and no rule directory was given",
    "RB836": "no state database where --state points",
}


class VersionError(RulebotError):
    """A version command could not do what was asked; ``code`` says why (RB83x)."""

    code = "RB830"

    def __init__(self, message: str, code: str = "RB830"):
        super().__init__(message)
        self.code = code


class UnknownVersion(VersionError):
    code = "RB830"

    def __init__(self, message: str):
        super().__init__(message, "RB830")


class NoContent(VersionError):
    code = "RB831"

    def __init__(self, message: str):
        super().__init__(message, "RB831")


class HumanFilesDiffer(VersionError):
    """Rollback would have to rewrite a human file; ``files`` names the ones that differ."""

    code = "RB832"

    def __init__(self, message: str, files: list[str]):
        super().__init__(message, "RB832")
        self.files = list(files)
