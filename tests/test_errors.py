"""Everything a person can cause is one kind of error, UserFacingError, with a readable message."""
import pytest

from skin_app.errors import InvalidRecordError, UserFacingError
from skin_app.history.export import ExportFileError
from skin_app.ingredients.report import IngredientInputError
from skin_app.routines.schedule import RoutineError
from skin_app.scan.calibration import CalibrationMissingError, load_calibration
from skin_app.scan.segmentation import ModelMissingError
from skin_app.storage import DatabaseError, Storage


@pytest.mark.parametrize("kind", [DatabaseError, RoutineError, IngredientInputError, ModelMissingError,
                                  CalibrationMissingError, InvalidRecordError, ExportFileError])
def test_every_user_error_is_a_user_facing_error(kind):
    assert issubclass(kind, UserFacingError)


def test_a_storage_refusal_is_user_facing_and_reads_as_its_message(tmp_path):
    db = Storage(tmp_path / "s.db")
    with pytest.raises(UserFacingError) as refused:
        db.create_profile("x" * 500)
    assert isinstance(refused.value, InvalidRecordError)
    assert str(refused.value) == "A profile name can be at most 60 characters."


def test_a_routine_error_keeps_every_problem_in_its_message():
    error = RoutineError(["The name is empty.", "Add a step."])
    assert error.problems == ["The name is empty.", "Add a step."] and str(error) == "The name is empty. Add a step."


def test_a_missing_calibration_says_what_to_do(tmp_path):
    with pytest.raises(UserFacingError) as missing:
        load_calibration(tmp_path / "calibration.json")
    assert "missing or damaged" in missing.value.message and "Reinstall" in missing.value.advice
