"""Errors a person can cause and fix. The core raises them; pages and the CLI show ``str(error)``."""
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
