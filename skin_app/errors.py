"""Errors a person can cause and fix. The core raises them; pages and the CLI show ``str(error)``.

Every such error is a :class:`UserFacingError`, so a page or the CLI catches that one class and nothing
broader (a programming error stays a traceback, not a message). The subclasses live with the module that
raises them: ``storage.DatabaseError``, ``reminders.RoutineError``, ``ingredients.IngredientInputError``,
``segmentation.ModelMissingError``, ``calibration.CalibrationMissingError``, ``export.ExportFileError``,
and here ``ImageError``, ``FaceError`` and ``InvalidRecordError``."""
from __future__ import annotations


class UserFacingError(Exception):
    """A problem with the input, with a message and advice written for the person, not a developer."""

    def __init__(self, message: str, advice: str = "", code: str = "bad_input") -> None:
        super().__init__(message if not advice else f"{message} {advice}")
        self.message = message
        self.advice = advice
        self.code = code


class ImageError(UserFacingError):
    """The upload is not a usable image (not an image, truncated, too large, ...)."""


class FaceError(UserFacingError):
    """No face, or the face cannot be analysed (the quality report says why)."""

    def __init__(self, message: str, advice: str = "", code: str = "no_face", quality=None) -> None:
        super().__init__(message, advice, code)
        self.quality = quality


class InvalidRecordError(UserFacingError, ValueError):
    """A record storage refuses to write (a name too long, a score out of range, a profile gone). Also a
    ``ValueError``, as these refusals were before, so validation code that expects one keeps working."""

    def __init__(self, message: str, advice: str = "", code: str = "invalid_record") -> None:
        super().__init__(message, advice, code)
