"""Request bodies and small response models of the HTTP API (they make the published OpenAPI spec)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: Free text from operators: printable, bounded.
_TEXT = r"^[^\x00-\x1f\x7f]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(_Strict):
    token: str = Field(min_length=1, max_length=256, description="Operator or viewer token from the configuration.")


class SessionInfo(BaseModel):
    role: Literal["none", "viewer", "operator"]
    commands_enabled: bool
    open_viewing: bool


class AcknowledgeRequest(_Strict):
    by: str = Field("operator", min_length=1, max_length=64, pattern=_TEXT, description="Who acknowledges.")
    comment: str = Field("", max_length=300, pattern=_TEXT, description="Why, or what was done.")
    lot_id: str | None = Field(None, max_length=200, pattern=_TEXT,
                               description="The lot of the alarm meant; another lot's alarm answers 409.")


class TargetedSampleRequest(_Strict):
    mark_t: float = Field(ge=0.0, le=1e7, allow_inf_nan=False,
                          description="Lot-relative tonnage mark of the material to sample, t.")
    reason: str = Field(min_length=1, max_length=200, pattern=_TEXT)


class StopLotRequest(_Strict):
    reason: str = Field(min_length=1, max_length=200, pattern=_TEXT)
    confirm: Literal[True] = Field(description="Must be true: stopping ends the lot as aborted.")


class CommandResult(BaseModel):
    ok: bool
    message: str
    detail: dict[str, Any] = {}


class ErrorBody(BaseModel):
    detail: Any


class SpectrumOut(BaseModel):
    lot_id: str
    segment: int
    stream: str
    n_spectra: int
    axis: Literal["wavelength_nm", "channel"]
    wavelength_nm: list[float]
    mean_reflectance: list[float]
    std_reflectance: list[float]
